/**
 * Roles of identities that are not API keys: client certificates under mutual TLS (`cert:<common name>`) and IAM
 * principals on AWS (the caller's ARN, from API Gateway's IAM authorizer). Configured in `PRINCIPAL_ROLES` as
 * comma-separated `identity=role[:BIC+BIC]` entries. Unset: every such identity is a `service` caller, as before
 * roles existed; set: an identity not listed has no role and is refused.
 */
import type { Role } from '../../domain/access';
import { AccessConfigurationError, parseRoleBinding } from './api-keys';

export const principalRolesVariable = 'PRINCIPAL_ROLES';
/** Entries accepted at most. */
export const identityRolesMax = 1_000;
const identityPattern = /^(cert:[^\s,=]{1,128}|arn:[A-Za-z0-9:/_+=.@-]{1,1000})$/;

export interface RoleBinding {
  readonly role: Role;
  readonly bics: readonly string[];
}

export class IdentityRoles {
  /** No PRINCIPAL_ROLES: every verified identity is a service caller. */
  static readonly unconfigured = new IdentityRoles(undefined);

  private constructor(private readonly bindings: ReadonlyMap<string, RoleBinding> | undefined) {}

  static parse(config: string | undefined, variable = principalRolesVariable): IdentityRoles {
    const entries = (config ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '');
    if (entries.length === 0) return IdentityRoles.unconfigured;
    if (entries.length > identityRolesMax) throw new AccessConfigurationError(variable, `holds more than ${identityRolesMax} entries`);
    const bindings = new Map<string, RoleBinding>();
    entries.forEach((entry, index) => {
      const separator = entry.lastIndexOf('=');
      const identity = entry.slice(0, separator);
      if (separator <= 0 || !identityPattern.test(identity)) throw new AccessConfigurationError(variable, `entry ${index + 1} must be cert:<common name>=role[:BIC+BIC] or <IAM ARN>=role[:BIC+BIC]`);
      if (bindings.has(identity)) throw new AccessConfigurationError(variable, `entry ${index + 1} repeats ${identity}`);
      const [roleText, bicsText, extra] = entry.slice(separator + 1).split(':');
      if (extra !== undefined) throw new AccessConfigurationError(variable, `entry ${index + 1} must be identity=role[:BIC+BIC]`);
      bindings.set(identity, parseRoleBinding(roleText, bicsText, variable, `entry ${index + 1} (${identity})`));
    });
    return new IdentityRoles(bindings);
  }

  /** The identity's role, or undefined when roles are configured and it has none. */
  bindingOf(identity: string): RoleBinding | undefined {
    if (this.bindings === undefined) return { role: 'service', bics: [] };
    return this.bindings.get(identity);
  }
}
