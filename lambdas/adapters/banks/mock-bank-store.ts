/**
 * Where the mock bank keeps its record of transfers. The bank's record must outlive the engine's process: after a
 * crash, recovery asks the bank about transfers with the same idempotency key, and a bank that forgot them would
 * let the engine void a lock while money is out. The DynamoDB adapter (adapters/dynamodb/mock-bank-store.ts)
 * serves the local engine and Lambda; the in-memory one serves unit tests.
 */
import type { MockTransfer } from './mock-bank';

/** A stored transfer and the version its next update is conditional on. */
export interface StoredMockTransfer {
  readonly transfer: MockTransfer;
  readonly version: number;
}

export interface MockBankStore {
  get(idempotencyKey: string): Promise<StoredMockTransfer | undefined>;
  /** Records a new transfer unless its key exists; returns what is stored either way (first writer wins). */
  create(transfer: MockTransfer): Promise<StoredMockTransfer>;
  /** Replaces the transfer if it is still at `version`; false when another call changed it first. */
  update(transfer: MockTransfer, version: number): Promise<boolean>;
  /** Every transfer, oldest received first. */
  list(): Promise<MockTransfer[]>;
}

export class InMemoryMockBankStore implements MockBankStore {
  private readonly transfers = new Map<string, StoredMockTransfer>();

  async get(idempotencyKey: string): Promise<StoredMockTransfer | undefined> {
    return this.transfers.get(idempotencyKey);
  }

  async create(transfer: MockTransfer): Promise<StoredMockTransfer> {
    const key = transfer.instruction.idempotencyKey;
    const existing = this.transfers.get(key);
    if (existing) return existing;
    const stored = { transfer, version: 1 };
    this.transfers.set(key, stored);
    return stored;
  }

  async update(transfer: MockTransfer, version: number): Promise<boolean> {
    const key = transfer.instruction.idempotencyKey;
    if (this.transfers.get(key)?.version !== version) return false;
    this.transfers.set(key, { transfer, version: version + 1 });
    return true;
  }

  async list(): Promise<MockTransfer[]> {
    return [...this.transfers.values()].map((stored) => stored.transfer).sort((a, b) => a.receivedAt.localeCompare(b.receivedAt));
  }
}
