/**
 * The stateful stack: the DynamoDB tables, built from the one shared definition module
 * (lambdas/adapters/dynamodb/table-definitions.ts) so the cloud and the local bootstrap cannot drift.
 *
 * Everything here is retained when the stack is deleted: money and its history outlive any deployment.
 */
import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import {
  tableDefinitions,
  type KeyAttribute,
  type LogicalTableName,
  type TableDefinition,
} from '../lambdas/adapters/dynamodb/table-definitions';
import type { TableEncryptionChoice } from './config';

const streamViewTypes = { NEW_IMAGE: dynamodb.StreamViewType.NEW_IMAGE, NEW_AND_OLD_IMAGES: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES } as const;

export type EngineTables = Readonly<Record<LogicalTableName, dynamodb.ITable>>;

export interface StatefulStackProps extends StackProps {
  readonly tableEncryption: TableEncryptionChoice;
}

export class StatefulStack extends Stack {
  readonly tables: EngineTables;
  /** The key that encrypts every table, when encryption is customer-managed. */
  readonly tableKey?: kms.IKey;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    if (props.tableEncryption === 'CUSTOMER_MANAGED') {
      this.tableKey = new kms.Key(this, 'TableKey', {
        description: 'Settlement Engine: encrypts the DynamoDB tables (balances, ledger, settlements)',
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.RETAIN,
      });
    }
    const tables: Partial<Record<LogicalTableName, dynamodb.ITable>> = {};
    for (const definition of tableDefinitions) {
      tables[definition.logicalName] = this.#table(definition);
    }
    this.tables = tables as EngineTables;
  }

  #table(definition: TableDefinition): dynamodb.Table {
    const table = new dynamodb.Table(this, tableConstructId(definition.logicalName), {
      partitionKey: attribute(definition.partitionKey),
      sortKey: definition.sortKey && attribute(definition.sortKey),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      encryption: this.tableKey ? dynamodb.TableEncryption.CUSTOMER_MANAGED : dynamodb.TableEncryption.AWS_MANAGED,
      encryptionKey: this.tableKey,
      timeToLiveAttribute: definition.timeToLiveAttribute,
      ...(definition.stream && { stream: streamViewTypes[definition.stream] }),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of definition.globalSecondaryIndexes) {
      table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: attribute(index.partitionKey),
        sortKey: index.sortKey && attribute(index.sortKey),
        projectionType: index.projection === 'ALL' ? dynamodb.ProjectionType.ALL : dynamodb.ProjectionType.KEYS_ONLY,
      });
    }
    return table;
  }
}

/** Construct id of a table: `SettlementsTable`, `AccountsTable`, ... (stable: it names the retained resource). */
export function tableConstructId(logicalName: LogicalTableName): string {
  return `${logicalName.charAt(0).toUpperCase()}${logicalName.slice(1)}Table`;
}

function attribute(key: KeyAttribute): dynamodb.Attribute {
  return { name: key.name, type: key.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER };
}
