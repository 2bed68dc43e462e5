/**
 * Roles and scopes: the one access policy of both APIs (REST routes and gRPC methods declare a Permission; the
 * edges call `authorize` before any handler runs, and the party checks below before any write or answer).
 *
 * - participant: bound to its BIC(s); submits settlements only as one of them (the payer), reads only the
 *   settlements and accounts it is party to, sees only its own events.
 * - operator: administration (banks, accounts, windows, reconciliations, the parked queue) and proposals; the
 *   actions that move money or stop a bank go through maker-checker (usecases/operations/approvals.ts).
 * - auditor: reads everything, changes nothing.
 * - service: the engine's own jobs and system integrations (and keys configured without a role, as before roles
 *   existed): full access, without maker-checker (it is code, not a person; it can never approve a proposal).
 */
import { ErrorCode, SettlementEngineError } from './errors';

export const Role = { participant: 'participant', operator: 'operator', auditor: 'auditor', service: 'service' } as const;
export type Role = (typeof Role)[keyof typeof Role];
export const roles: readonly Role[] = Object.values(Role);

/** What a route or RPC does, as the policy sees it. Every REST route and gRPC method declares exactly one. */
export const Permission = {
  /** Submit a settlement (participant: only as its own payer). */
  settlementSubmit: 'settlement.submit',
  /** Read one settlement or the event stream (participant: only its own). */
  settlementRead: 'settlement.read',
  /** Read accounts and balances (participant: only its own). */
  accountRead: 'account.read',
  /** Read reference and operations data: banks, windows, parked queue, reconciliations, proposals, metrics. */
  operationsRead: 'operations.read',
  /** Change reference and operations data, directly or by proposing (maker-checker decides which). */
  operationsWrite: 'operations.write',
  /** Approve or reject another operator's proposal. */
  proposalDecide: 'proposal.decide',
  /** Read and export the audit trail. */
  auditRead: 'audit.read',
} as const;
export type Permission = (typeof Permission)[keyof typeof Permission];

/** Mutating permissions: an auditor never holds one (the auditor test derives its list from this). */
export const mutatingPermissions: readonly Permission[] = [Permission.settlementSubmit, Permission.operationsWrite, Permission.proposalDecide];

const grants: Readonly<Record<Role, readonly Permission[]>> = {
  participant: [Permission.settlementSubmit, Permission.settlementRead, Permission.accountRead],
  operator: [Permission.settlementRead, Permission.accountRead, Permission.operationsRead, Permission.operationsWrite, Permission.proposalDecide, Permission.auditRead],
  auditor: [Permission.settlementRead, Permission.accountRead, Permission.operationsRead, Permission.auditRead],
  service: [Permission.settlementSubmit, Permission.settlementRead, Permission.accountRead, Permission.operationsRead, Permission.operationsWrite, Permission.auditRead],
};

/** An authenticated caller: who (as the audit trail names it), how, in which role, and for which banks. */
export interface Principal {
  readonly clientName: string;
  readonly method: 'api-key' | 'client-certificate' | 'iam' | 'cognito' | 'local';
  readonly role: Role;
  /** The BICs a participant acts for (8-character form); empty for every other role. */
  readonly bics: readonly string[];
}

/** The caller of an engine without configured credentials (tests, embedded use): the engine itself. */
export const localServicePrincipal: Principal = { clientName: 'local', method: 'local', role: 'service', bics: [] };

/** 403 / PERMISSION_DENIED: authenticated, but this principal may not do this. Nothing was written. */
export class ForbiddenError extends SettlementEngineError {
  override readonly name = 'ForbiddenError' as const;
  override readonly code = ErrorCode.forbidden;
  override readonly kind = 'forbidden' as const;
  constructor(
    readonly principal: Principal,
    readonly permission: Permission,
    readonly reason: string,
  ) {
    super(`${principal.clientName} (${principal.role}) may not ${permission}: ${reason}`);
  }
}

export function isGranted(principal: Principal, permission: Permission): boolean {
  return grants[principal.role].includes(permission);
}

/** Throws ForbiddenError unless the principal's role grants the permission. */
export function authorize(principal: Principal, permission: Permission): void {
  if (!isGranted(principal, permission)) throw new ForbiddenError(principal, permission, `the ${principal.role} role does not grant it`);
}

/** The 8-character form of a BIC: "DEUTDEFFXXX" and "DEUTDEFF" name the same institution office. */
export function bicKey(bic: string): string {
  return bic.length === 11 && bic.endsWith('XXX') ? bic.slice(0, 8) : bic;
}

/** Whether a participant acts for this BIC; every other role acts for all. */
export function actsFor(principal: Principal, bic: string): boolean {
  return principal.role !== 'participant' || principal.bics.includes(bicKey(bic));
}

/** A participant may submit only as its own payer. */
export function requirePayer(principal: Principal, payerBic: unknown): void {
  if (principal.role !== 'participant') return;
  if (typeof payerBic !== 'string' || !actsFor(principal, payerBic)) {
    throw new ForbiddenError(principal, Permission.settlementSubmit, `payerBic must be one of the banks this key acts for (${principal.bics.join(', ')})`);
  }
}

/** A participant may read only what it is party to (payer or payee; for an account, its owner). */
export function requireParty(principal: Principal, permission: Permission, bics: readonly string[]): void {
  if (principal.role !== 'participant') return;
  if (!bics.some((bic) => actsFor(principal, bic))) throw new ForbiddenError(principal, permission, 'the caller is not a party to it');
}
