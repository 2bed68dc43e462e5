/**
 * The lean write path keeps a settlement's checkpoints, lock and operations in its record item. Invariant checks that
 * read the table raw see them as the items they were before (one LOCK, one EVENT#<seq> per checkpoint, one
 * OPERATION#<attempt> per attempt), derived here from each record, so every check keeps asking the same questions.
 * Items that are not records pass through unchanged.
 */
import { SortKey, eventsOf, lockFromItem, recordFromItem } from '../../lambdas/adapters/dynamodb/settlement-store';

type Item = Record<string, unknown>;

export function withRecordParts(items: readonly Item[]): Item[] {
  return items.flatMap((item) => (item.sk === SortKey.record && item.itemType === 'SETTLEMENT' ? [item, ...recordParts(item)] : [item]));
}

function recordParts(item: Item): Item[] {
  const pk = item.pk;
  const record = recordFromItem(item);
  const lock = lockFromItem(item);
  const parts: Item[] = [];
  if (lock) {
    parts.push({ pk, sk: SortKey.lock, itemType: 'LOCK', settlementId: lock.settlementId, lockState: lock.state, amount: item.amount, currency: lock.currency, vostroAccountId: lock.vostroAccountId, nostroAccountId: lock.nostroAccountId, createdAt: lock.createdAt, expiresAt: lock.expiresAt, ...(lock.endedAt && { endedAt: lock.endedAt }) });
  }
  for (const event of eventsOf(record)) parts.push({ pk, sk: SortKey.event(event.seq), itemType: 'EVENT', ...event });
  for (const operation of record.operations ?? []) {
    parts.push({ pk, sk: SortKey.operation(operation.attempt), itemType: 'OPERATION', attempt: operation.attempt, operationState: operation.state, startedAt: operation.startedAt, ...(operation.endedAt && { endedAt: operation.endedAt }) });
  }
  return parts;
}
