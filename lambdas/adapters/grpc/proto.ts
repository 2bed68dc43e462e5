/**
 * The SettlementService proto, loaded once with @grpc/proto-loader, and the plain-object shapes of its messages
 * as proto-loader delivers them (keepCase: snake_case field names; longs and enums as strings; defaults filled).
 */
import { join } from 'node:path';
import * as protoLoader from '@grpc/proto-loader';

export const protoPackage = 'deltran.settlement.v1';
export const settlementServiceName = `${protoPackage}.SettlementService`;

/** proto/settlement.proto, resolved from this file (lambdas/adapters/grpc) so any working directory works. */
export const settlementProtoPath = join(__dirname, '..', '..', '..', 'proto', 'settlement.proto');

export const protoLoaderOptions: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

let cached: protoLoader.PackageDefinition | undefined;
export function settlementPackageDefinition(): protoLoader.PackageDefinition {
  cached ??= protoLoader.loadSync(settlementProtoPath, protoLoaderOptions);
  return cached;
}

/** google.protobuf.Timestamp as proto-loader represents it (seconds as a decimal string). */
export interface TimestampMessage {
  seconds: string | number;
  nanos: number;
}

/** An enum as received: its name, or a number when the client sent a value this proto does not know. */
export type EnumValue = string | number;

export interface ExecuteSettlementRequestMessage {
  settlement_id: string;
  payer_bic: string;
  payee_bic: string;
  amount: string;
  currency: string;
  rail: EnumValue;
  kind: EnumValue;
  value_date: string;
  reference: string;
  wait_for_terminal_ms: number;
  /** Empty: none (proto3 strings have no absence). */
  payer_iban: string;
  payee_iban: string;
}

export interface GetSettlementStatusRequestMessage {
  settlement_id: string;
}

export interface AccountBalanceRequestMessage {
  bic: string;
  currency: string;
}

export interface ReconcileAccountsRequestMessage {
  account_type: EnumValue;
  bic: string;
  currency: string;
  period_start: TimestampMessage | null;
  period_end: TimestampMessage | null;
}

export interface StreamSettlementEventsRequestMessage {
  settlement_id: string;
  bank_bic: string;
  currency: string;
  cursor: string;
  since: TimestampMessage | null;
}

export interface CheckpointMessage {
  seq: number;
  status: string;
  previous_status: string;
  stage: string;
  at: TimestampMessage | null;
  reason_code: string;
  detail: string;
}

export interface SettlementReturnMessage {
  return_id: string;
  amount: string;
  reason_code: string;
  returned_at: TimestampMessage | null;
}

export interface FundLockMessage {
  state: string;
  amount: string;
  vostro_account_id: string;
  nostro_account_id: string;
  created_at: TimestampMessage | null;
  expires_at: TimestampMessage | null;
  ended_at: TimestampMessage | null;
}

export interface SettlementMessage {
  settlement_id: string;
  payer_bic: string;
  payee_bic: string;
  amount: string;
  currency: string;
  rail: string;
  kind: string;
  value_date: string;
  reference: string;
  status: string;
  reason_code: string;
  reason: string;
  retryable: boolean;
  parked: boolean;
  attempt: number;
  payer_account_id: string;
  nostro_account_id: string;
  bank_reference: string;
  created_at: TimestampMessage | null;
  updated_at: TimestampMessage | null;
  completed_at: TimestampMessage | null;
  lock: FundLockMessage | null;
  checkpoints: CheckpointMessage[];
  payer_iban: string;
  payee_iban: string;
  returned: SettlementReturnMessage | null;
}

export interface AccountBalanceMessage {
  account_id: string;
  account_type: string;
  bic: string;
  currency: string;
  balance: string;
  locked: string;
  available: string;
  floor: string;
  status: string;
  version: string;
  updated_at: TimestampMessage | null;
}

export interface ReconcileAccountsResponseMessage {
  report_id: string;
  status: string;
  period_start: TimestampMessage | null;
  period_end: TimestampMessage | null;
  accounts: number;
  matched: number;
  missing_at_bank: number;
  missing_in_ledger: number;
  amount_mismatches: number;
  balance_mismatches: number;
  stale_locks: number;
  discrepancies: number;
  report_ids: string[];
  value_date_mismatches: number;
}

export interface SettlementEventMessage {
  cursor: string;
  settlement_id: string;
  seq: number;
  status: string;
  previous_status: string;
  stage: string;
  at: TimestampMessage | null;
  reason_code: string;
  payer_bic: string;
  payee_bic: string;
  currency: string;
  amount: string;
}
