/**
 * Table grants written out instead of `grantReadData`/`grantReadWriteData`, for two reasons:
 * - indexes are named one by one from the shared definitions (`table/index/jobs`), never `table/index/*`;
 * - no `dynamodb:Scan`: the design answers every job's access pattern with a Query on a sparse index, and IAM
 *   holds the code to that.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { tableDefinitions, type LogicalTableName } from '../lambdas/adapters/dynamodb/table-definitions';
import type { TableAccess, TableWriteAction } from './function-catalogue';
import type { EngineTables } from './stateful-stack';

export const tableReadActions = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DescribeTable',
] as const;
/** TransactWriteItems is authorized item by item through these. */
export const tableWriteActions = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'] as const;
/** The only write the ledger ever takes: an append (PutItem on `attribute_not_exists`). */
export const ledgerWriteActions: readonly TableWriteAction[] = ['PutItem'];

/** The IAM actions a table access level grants, in a stable order. */
export function tableActions(access: TableAccess): string[] {
  if (access === 'describe') return ['dynamodb:DescribeTable'];
  if (access === 'read') return [...tableReadActions];
  return [...tableReadActions, ...access.write.map((action) => `dynamodb:${action}`)];
}
/**
 * Reading a table's change stream (lambdas/adapters/events/change-stream.ts): the shard list, an iterator, the
 * records. Not `ListStreams` (it takes no resource, so it would be `*`): the reader finds the stream ARN with
 * DescribeTable, a table read action.
 */
export const streamReadActions = ['dynamodb:DescribeStream', 'dynamodb:GetShardIterator', 'dynamodb:GetRecords'] as const;
/** What DynamoDB needs of the caller on a customer-managed table key (explicit: no `kms:*` wildcards). */
export const keyReadActions = ['kms:Decrypt', 'kms:DescribeKey'] as const;
export const keyWriteActions = ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'] as const;

export function grantTableAccess(grantee: iam.IGrantable, tables: EngineTables, access: Readonly<Partial<Record<LogicalTableName, TableAccess>>>): void {
  for (const [logicalName, level] of Object.entries(access) as [LogicalTableName, TableAccess][]) {
    grantOneTable(grantee, tables[logicalName], logicalName, level);
  }
}

function grantOneTable(grantee: iam.IGrantable, table: dynamodb.ITable, logicalName: LogicalTableName, access: TableAccess): void {
  const definition = tableDefinitions.find((candidate) => candidate.logicalName === logicalName);
  if (definition === undefined) throw new Error(`no table definition named ${logicalName}`);
  const writes = typeof access === 'object' ? access.write : [];
  if (logicalName === 'ledger' && writes.some((action) => !ledgerWriteActions.includes(action))) {
    throw new Error(`the ledger is append-only: ${writes.join(', ')} asked for, only ${ledgerWriteActions.join(', ')} may be granted`);
  }
  if (access === 'describe') {
    iam.Grant.addToPrincipal({ grantee, actions: tableActions(access), resourceArns: [table.tableArn] });
    return;
  }
  iam.Grant.addToPrincipal({
    grantee,
    actions: tableActions(access),
    resourceArns: [table.tableArn, ...definition.globalSecondaryIndexes.map((index) => `${table.tableArn}/index/${index.indexName}`)],
  });
  table.encryptionKey?.grant(grantee, ...keyReadActions, ...(writes.length > 0 ? keyWriteActions : []));
}

/** Read access to the change streams of the named tables, on each stream's ARN only (and its key, to decrypt records). */
export function grantStreamRead(grantee: iam.IGrantable, tables: EngineTables, logicalNames: readonly LogicalTableName[]): void {
  for (const logicalName of logicalNames) {
    const definition = tableDefinitions.find((candidate) => candidate.logicalName === logicalName);
    const table = tables[logicalName];
    if (definition?.stream === undefined || table.tableStreamArn === undefined) throw new Error(`table ${logicalName} has no change stream to read`);
    iam.Grant.addToPrincipal({ grantee, actions: [...streamReadActions], resourceArns: [table.tableStreamArn] });
    table.encryptionKey?.grant(grantee, ...keyReadActions);
  }
}
