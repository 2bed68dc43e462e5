/**
 * DynamoDB table definitions: the one place both the CDK stateful stack and the local bootstrap read.
 * docs/data-model.md maps every seed table onto these tables and item types, with each access pattern.
 *
 * Attribute and index names are part of the data contract; changing one is a migration.
 */

export type KeyType = 'S' | 'N';
export interface KeyAttribute {
  readonly name: string;
  readonly type: KeyType;
}
export interface IndexDefinition {
  readonly indexName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  /** ALL keeps the job that reads the index to one Query, at the cost of index storage. */
  readonly projection: 'ALL' | 'KEYS_ONLY';
  readonly purpose: string;
  /** Replaced by another index: read for items written before the replacement, never written; removed in a later release. */
  readonly retiring?: true;
}
export interface TableDefinition {
  /** Logical name: CDK construct id, local table name suffix, and the key of TableNames. */
  readonly logicalName: LogicalTableName;
  /** Which seed (relational) tables this DynamoDB table holds. */
  readonly holds: readonly string[];
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly globalSecondaryIndexes: readonly IndexDefinition[];
  /** Attribute holding an epoch-seconds expiry that DynamoDB TTL deletes after. */
  readonly timeToLiveAttribute?: string;
  /** The table's change stream (DynamoDB Streams), when something reads it, and what its records carry. */
  readonly stream?: 'NEW_IMAGE' | 'NEW_AND_OLD_IMAGES';
}

export type LogicalTableName = 'settlements' | 'accounts' | 'ledger' | 'reference' | 'reconciliation';

/** Sparse GSIs used by jobs spread writes over this many partitions (at 1,000 settlements/s none takes more than ~150 write units/s); a job queries every shard. */
export const indexShardCount = 16;

/**
 * The `jobs` index partition of a parked record's entry, keyed on when it was parked: the operator's queue, out of
 * the recovery sweep's partitions, in cleanup's and reconciliation's.
 */
export function parkedJobShard(shard: string): string {
  return `P${shard}`;
}

/** The `jobs` index partition of a FAILED record marked retryable, keyed on its next retry time: the retry job's. */
export function retryJobShard(shard: string): string {
  return `R${shard}`;
}

export const settlementsTable: TableDefinition = {
  logicalName: 'settlements',
  holds: ['settlement_transactions', 'fund_locks', 'settlement_operation_checkpoints', 'settlement_atomic_operations', 'compensation_transactions'],
  // pk = settlement id; sk = RECORD (request, status, checkpoints, lock, operations) | COMPENSATION#<attempt>
  // (LOCK, EVENT#<seq> and OPERATION#<attempt> items are the layout before the lean write path: read, never written)
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  globalSecondaryIndexes: [
    {
      indexName: 'jobs',
      // One entry per settlement a job may have to act on, in the partitions of the job that acts on it:
      // - `<shard>`, keyed on the attempt's start: from creation until the settlement has ended with no pending lock
      //   (a happy-path settlement writes it twice in all: no transition in between changes its keys). The recovery
      //   sweep, expired-lock cleanup and an account's pending locks.
      // - `P<shard>` (`parkedJobShard`), keyed on when it was parked: the operator's queue; cleanup and reconciliation.
      // - `R<shard>` (`retryJobShard`), keyed on its next retry time: a FAILED record marked retryable; the retry job.
      partitionKey: { name: 'jobShard', type: 'S' },
      sortKey: { name: 'jobSince', type: 'S' },
      projection: 'KEYS_ONLY',
      purpose: 'records a job must act on, each in its job\'s partitions: not ended or holding a pending lock (oldest attempt first), parked (earliest first), due for a retry (earliest first)',
    },
    // Retiring: indexes the `jobs` index replaces. No record written since holds their keys (every record write is a
    // whole PutItem; the lean write path writes no OPERATION items), so on AWS they cost no writes; their readers still
    // query them for items last written before (docs/data-model.md "Retiring indexes"). Each goes in its own later
    // release: CloudFormation deletes one GSI per update. A table created afresh has no such items and is created
    // without them (the local bootstrap); readers query only those the table has (`retiringIndexes` in the config).
    {
      indexName: 'retryQueue',
      partitionKey: { name: 'retryShard', type: 'S' },
      sortKey: { name: 'retryAt', type: 'S' },
      projection: 'KEYS_ONLY',
      purpose: 'retiring (replaced by jobs): FAILED records marked retryable last written before it, by next retry time: the retry job',
      retiring: true,
    },
    {
      indexName: 'parked',
      partitionKey: { name: 'parkedShard', type: 'S' },
      sortKey: { name: 'parkedAt', type: 'S' },
      projection: 'ALL',
      purpose: 'retiring (replaced by jobs): settlements parked before it: the admin API',
      retiring: true,
    },
    {
      indexName: 'endedOperations',
      partitionKey: { name: 'endedShard', type: 'S' },
      sortKey: { name: 'endedAt', type: 'S' },
      projection: 'KEYS_ONLY',
      purpose: 'retiring (no longer written): OPERATION items of the layout before the lean write path that have ended, by end time: the cleanup job',
      retiring: true,
    },
    {
      indexName: 'inFlight',
      partitionKey: { name: 'inFlightShard', type: 'S' },
      sortKey: { name: 'inFlightSince', type: 'S' },
      projection: 'KEYS_ONLY',
      purpose: 'retiring (replaced by jobs): records last written before it, in a non-terminal status: the recovery sweep',
      retiring: true,
    },
    {
      indexName: 'pendingLocks',
      partitionKey: { name: 'lockShard', type: 'S' },
      sortKey: { name: 'expiresAt', type: 'S' },
      projection: 'KEYS_ONLY',
      purpose: 'retiring (replaced by jobs): records last written before it whose lock is pending, by expiry: cleanup, reconciliation',
      retiring: true,
    },
  ],
  timeToLiveAttribute: 'ttl',
  // StreamSettlementEvents reads each record write from the change stream (lambdas/adapters/events/change-stream.ts):
  // the checkpoints it appended are the new image's past the old image's version.
  stream: 'NEW_AND_OLD_IMAGES',
};

export const accountsTable: TableDefinition = {
  logicalName: 'accounts',
  holds: ['nostro_accounts', 'vostro_accounts'],
  // pk = accountId: NOSTRO#<BIC>#<CCY> or VOSTRO#<BIC>#<CCY>
  partitionKey: { name: 'accountId', type: 'S' },
  globalSecondaryIndexes: [
    {
      indexName: 'byType',
      partitionKey: { name: 'accountType', type: 'S' },
      sortKey: { name: 'bicCurrency', type: 'S' },
      // Keys only: its keys never change, so a balance change (every lock and posting) writes nothing here; the
      // two partition values would otherwise take every settlement's account writes.
      projection: 'KEYS_ONLY',
      purpose: 'list nostro or vostro accounts, filtered by bank and currency, paginated',
    },
  ],
};

export const ledgerTable: TableDefinition = {
  logicalName: 'ledger',
  holds: ['ledger entries (every posting to a nostro or vostro balance)'],
  // pk = accountId; sk = <postedAt ISO>#<settlement or movement id>#<leg>
  partitionKey: { name: 'accountId', type: 'S' },
  sortKey: { name: 'entryKey', type: 'S' },
  globalSecondaryIndexes: [],
};

export const referenceTable: TableDefinition = {
  logicalName: 'reference',
  holds: ['banks', 'settlement_windows', 'payout routes', 'audit entries'],
  // BANK#<BIC>/PROFILE, WINDOW#<CCY>/WINDOW, ROUTE#<payee BIC>#<CCY>/ROUTE, AUDIT#<day>/<at>#<id>
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  globalSecondaryIndexes: [
    {
      indexName: 'gsi1',
      partitionKey: { name: 'gsi1pk', type: 'S' },
      sortKey: { name: 'gsi1sk', type: 'S' },
      projection: 'ALL',
      purpose: 'secondary listings of reference items (banks by status, audit by entity)',
    },
  ],
};

export const reconciliationTable: TableDefinition = {
  logicalName: 'reconciliation',
  holds: ['reconciliation_reports'],
  // REPORT#<id>/SUMMARY, REPORT#<id>/ITEM#<n>, RUN#<accountId>#<period>/RUN (mutual exclusion of runs)
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  globalSecondaryIndexes: [
    {
      indexName: 'gsi1',
      partitionKey: { name: 'gsi1pk', type: 'S' },
      sortKey: { name: 'gsi1sk', type: 'S' },
      projection: 'ALL',
      purpose: 'reports by account and by time',
    },
  ],
  timeToLiveAttribute: 'ttl',
};

export const tableDefinitions: readonly TableDefinition[] = [settlementsTable, accountsTable, ledgerTable, referenceTable, reconciliationTable];

/** Physical table names, resolved once at the edge (environment on Lambda, a prefix locally). */
export type TableNames = Readonly<Record<LogicalTableName, string>>;

/** Environment variable that carries each table's physical name into a Lambda function or the gRPC task. */
export const tableNameEnvironmentVariables: Readonly<Record<LogicalTableName, string>> = {
  settlements: 'SETTLEMENTS_TABLE',
  accounts: 'ACCOUNTS_TABLE',
  ledger: 'LEDGER_TABLE',
  reference: 'REFERENCE_TABLE',
  reconciliation: 'RECONCILIATION_TABLE',
};

export function tableNamesWithPrefix(prefix: string): TableNames {
  return {
    settlements: `${prefix}settlements`,
    accounts: `${prefix}accounts`,
    ledger: `${prefix}ledger`,
    reference: `${prefix}reference`,
    reconciliation: `${prefix}reconciliation`,
  };
}

/** The names of a table's retiring indexes. */
export function retiringIndexNames(definition: TableDefinition): string[] {
  return definition.globalSecondaryIndexes.filter((index) => index.retiring).map((index) => index.indexName);
}

/** Whether a table is created with its retiring indexes (the shape an earlier release deployed) or without. */
export type RetiringIndexShape = 'with-retiring' | 'without-retiring';

/**
 * CreateTable input for one definition (on-demand billing), used by the local bootstrap: without the retiring
 * indexes (a new table holds no item written before their replacement) unless `retiring` asks for the shape a
 * table deployed by an earlier release has.
 */
export function createTableInput(definition: TableDefinition, tableName: string, retiring: RetiringIndexShape = 'without-retiring') {
  const indexes = definition.globalSecondaryIndexes.filter((index) => retiring === 'with-retiring' || !index.retiring);
  const attributes = new Map<string, KeyType>();
  const add = (key: KeyAttribute | undefined) => key && attributes.set(key.name, key.type);
  add(definition.partitionKey);
  add(definition.sortKey);
  indexes.forEach((index) => {
    add(index.partitionKey);
    add(index.sortKey);
  });
  const keySchema = (partitionKey: KeyAttribute, sortKey?: KeyAttribute) => [
    { AttributeName: partitionKey.name, KeyType: 'HASH' as const },
    ...(sortKey ? [{ AttributeName: sortKey.name, KeyType: 'RANGE' as const }] : []),
  ];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType })),
    KeySchema: keySchema(definition.partitionKey, definition.sortKey),
    ...(definition.stream && { StreamSpecification: { StreamEnabled: true, StreamViewType: definition.stream } }),
    ...(indexes.length > 0 && {
      GlobalSecondaryIndexes: indexes.map((index) => ({
        IndexName: index.indexName,
        KeySchema: keySchema(index.partitionKey, index.sortKey),
        Projection: { ProjectionType: index.projection },
      })),
    }),
  };
}
