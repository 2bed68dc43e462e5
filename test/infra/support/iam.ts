/**
 * Reads what a role may do out of a synthesized template, so tests can say "exactly these tables, these actions"
 * and not only "at least".
 */
import type { Template } from 'aws-cdk-lib/assertions';
import type { LogicalTableName } from '../../../lambdas/adapters/dynamodb/table-definitions';

export interface PolicyStatement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
}

/** Every statement of every inline policy attached to the role. */
export function statementsOfRole(template: Template, roleLogicalId: string): PolicyStatement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((policy) => (policy.Properties.Roles as unknown[]).some((role) => JSON.stringify(role) === JSON.stringify({ Ref: roleLogicalId })))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as PolicyStatement[]);
}

export const actionsOf = (statement: PolicyStatement): string[] => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]);
const resourcesOf = (statement: PolicyStatement): unknown[] => (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]);

/**
 * The actions the role may perform on a resource whose reference mentions the logical id (e.g. a table's ARN);
 * with a suffix, on its sub-resources whose reference also mentions it (`/index/`, `StreamArn`).
 */
export function actionsOnResource(statements: readonly PolicyStatement[], logicalId: string, suffix = ''): Set<string> {
  const actions = new Set<string>();
  const subResources = ['/index/', 'StreamArn'];
  for (const statement of statements) {
    if (statement.Effect !== 'Allow') continue;
    const matches = resourcesOf(statement).some((resource) => {
      const text = JSON.stringify(resource);
      return text.includes(logicalId) && (suffix === '' ? !subResources.some((sub) => text.includes(sub)) : text.includes(suffix));
    });
    if (matches) actionsOf(statement).forEach((action) => actions.add(action));
  }
  return actions;
}

/** Per table: the DynamoDB actions the role holds on the table itself (tables it cannot touch are absent). */
export function dynamoDbAccess(statements: readonly PolicyStatement[], tableLogicalIds: Readonly<Record<LogicalTableName, string>>): Partial<Record<LogicalTableName, string[]>> {
  const access: Partial<Record<LogicalTableName, string[]>> = {};
  for (const [name, logicalId] of Object.entries(tableLogicalIds) as [LogicalTableName, string][]) {
    const actions = [...actionsOnResource(statements, logicalId)].filter((action) => action.startsWith('dynamodb:')).sort();
    if (actions.length > 0) access[name] = actions;
  }
  return access;
}

/** Per table: the actions the role holds on the table's change stream (tables whose stream it cannot read are absent). */
export function streamAccess(statements: readonly PolicyStatement[], tableLogicalIds: Readonly<Record<LogicalTableName, string>>): Partial<Record<LogicalTableName, string[]>> {
  const access: Partial<Record<LogicalTableName, string[]>> = {};
  for (const [name, logicalId] of Object.entries(tableLogicalIds) as [LogicalTableName, string][]) {
    const actions = [...actionsOnResource(statements, logicalId, 'StreamArn')].sort();
    if (actions.length > 0) access[name] = actions;
  }
  return access;
}

/** Every action the role holds, anywhere. */
export function allActions(statements: readonly PolicyStatement[]): Set<string> {
  return new Set(statements.filter((statement) => statement.Effect === 'Allow').flatMap(actionsOf));
}
