/**
 * What the APIs return: plain, serialisable views. Amounts are decimal strings fixed to the currency's minor
 * units, times are ISO 8601 UTC strings. REST returns them as JSON (camelCase); gRPC maps them field by field.
 */
import type { SettlementRequest, SettlementStatus } from '../domain/settlement';

export interface CheckpointView {
  /** Position in the settlement's history, from 1, without gaps. */
  readonly seq: number;
  readonly status: SettlementStatus;
  readonly previousStatus: SettlementStatus | null;
  /** The stage that made the change (Submit, Validate, LockFunds, ..., Retry, Operator). */
  readonly stage: string;
  readonly at: string;
  readonly reasonCode?: string;
  readonly detail?: string;
}

export interface FundLockView {
  readonly state: 'PENDING' | 'POSTED' | 'VOIDED';
  readonly amount: string;
  readonly vostroAccountId: string;
  readonly nostroAccountId: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly endedAt?: string;
}

/** The request as accepted, plus its lifecycle. */
export interface SettlementView extends SettlementRequest {
  readonly status: SettlementStatus;
  readonly reasonCode?: string;
  readonly reason?: string;
  /** Set once FAILED: whether a later attempt may succeed (the retry job will try). */
  readonly retryable?: boolean;
  /** Parked for an operator: the workflow could not finish on its own. */
  readonly parked?: boolean;
  readonly attempt: number;
  /** The principal that submitted it. */
  readonly submittedBy?: string;
  readonly payerAccountId?: string;
  readonly nostroAccountId?: string;
  readonly bankReference?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly completedAt?: string;
  readonly lock?: FundLockView;
  readonly checkpoints: readonly CheckpointView[];
  /** A return booked after the settlement completed (the money came back to the payer's vostro). */
  readonly returned?: ReturnView;
}

export interface ReturnView {
  readonly returnId: string;
  readonly amount: string;
  readonly reasonCode: string;
  readonly returnedAt: string;
}

export interface AccountView {
  readonly accountId: string;
  readonly accountType: 'NOSTRO' | 'VOSTRO';
  readonly bic: string;
  readonly currency: string;
  readonly balance: string;
  readonly locked: string;
  readonly available: string;
  /** Lowest `available` may go (usually "0"; a negative floor is an overdraft line). */
  readonly floor: string;
  readonly status: 'ACTIVE' | 'FROZEN' | 'CLOSED';
  readonly version: number;
  readonly updatedAt: string;
}

export interface Page<T> {
  readonly items: readonly T[];
  /** Opaque cursor for the next page; absent on the last page. */
  readonly nextCursor?: string;
}
