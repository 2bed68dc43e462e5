/**
 * Reads an uploaded statement file (camt.053 or CSV) through the importers: checked whole first (a camt.053 goes
 * through the hardened XML reader: no DOCTYPE, bounded size and depth, a camt.053 namespace), then summarised, and
 * later opened again as a Statement for reconciliation.
 */
import { Iso20022MessageInvalidError } from '../../domain/errors';
import { StatementInvalidError } from '../../domain/operations-errors';
import type { Statement } from '../../ports/bank';
import type { StatementFormat, StatementReader, StatementSummary } from '../../ports/operations';
import { parseXml } from '../banks/iso20022/xml';
import { camt053NamespacePrefix, camt053Statement, readCamt053Headers } from './camt053';
import { csvStatement } from './csv';
import type { StatementTarget } from './source';

/** Largest statement file the inbox takes (an item of the reconciliation table; bigger files go through S3). */
export const statementContentBytesMax = 300 * 1024;
/** Entries one uploaded statement may hold. */
export const statementEntriesMax = 20_000;

export const statementReader: StatementReader = {
  async summarize(format: StatementFormat, content: string, target: StatementTarget): Promise<StatementSummary> {
    let statementId: string | undefined;
    let from: string | undefined;
    let to: string | undefined;
    if (format === 'CAMT053') {
      try {
        const root = parseXml(content, 'camt.053 statement', undefined, { bytesMax: statementContentBytesMax, depthMax: 32, elementsMax: statementEntriesMax * 20, textLengthMax: 4_096 });
        if (!root.namespace.startsWith(camt053NamespacePrefix)) throw new StatementInvalidError('camt.053', 'Document', `is in namespace "${root.namespace.slice(0, 80)}", not a camt.053 one`);
      } catch (error) {
        if (error instanceof Iso20022MessageInvalidError) throw new StatementInvalidError('camt.053', 'document', error.reason, { cause: error });
        throw error;
      }
      const headers = (await readCamt053Headers(() => [content])).filter((header) => header.currency === target.currency);
      if (headers.length > 0) {
        statementId = headers[0].id;
        from = headers[0].openingDate && `${headers[0].openingDate}T00:00:00.000Z`;
        to = headers[headers.length - 1].closingDate && `${headers[headers.length - 1].closingDate}T23:59:59.999Z`;
      }
    }
    const statement = await this.open(format, content, target);
    let entryCount = 0;
    for await (const entry of statement.entries) {
      void entry;
      if (++entryCount > statementEntriesMax) throw new StatementInvalidError(format === 'CSV' ? 'csv' : 'camt.053', 'document', `holds more than ${statementEntriesMax} entries`);
    }
    return { ...(statementId && { statementId }), ...(from && { from }), ...(to && { to }), openingBalance: statement.openingBalance, closingBalance: statement.closingBalance, entryCount };
  },

  open(format: StatementFormat, content: string, target: StatementTarget): Promise<Statement> {
    return format === 'CSV' ? csvStatement(() => [content], target) : camt053Statement(() => [content], target);
  },
};
