/**
 * The console's callers on AWS: people signed in to the Cognito user pool (infra/constructs/console-site.ts).
 * API Gateway's Cognito authorizer has verified the ID token (signature, issuer, audience, expiry) before the
 * function runs and hands over its claims; this maps them to the principal the one access policy decides on
 * (domain/access.ts), as PRINCIPAL_ROLES does for IAM principals. A user's groups are its role:
 *
 * - `operator` → operator, `auditor` → auditor;
 * - `participant-<BIC>` → participant bound to that BIC (several such groups: several BICs).
 *
 * Anything else is refused: no group, two different roles (a person is one role at a time: an operator who is also an
 * auditor would be able to approve what they audit), or a `service` (the engine's own jobs are never people).
 */
import { bicKey, type Principal, type Role } from '../../domain/access';

/** Groups a user may be in that the mapping looks at; more is a misconfiguration, refused. */
export const cognitoGroupsMax = 20;
export const participantGroupPrefix = 'participant-';
const bicPattern = /^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$/;
const roleOfGroup: Readonly<Record<string, Role>> = { operator: 'operator', auditor: 'auditor' };

export type CognitoCallerResult = { readonly principal: Principal } | { readonly refused: Principal; readonly reason: string };

/** The claims of a Cognito-authorized request (`requestContext.authorizer.claims`), or undefined when not one. */
export function cognitoClaimsOf(authorizer: unknown): Readonly<Record<string, unknown>> | undefined {
  if (authorizer === null || typeof authorizer !== 'object') return undefined;
  const claims = (authorizer as { claims?: unknown }).claims;
  return claims !== null && typeof claims === 'object' && !Array.isArray(claims) ? (claims as Record<string, unknown>) : undefined;
}

export function principalOfCognitoClaims(claims: Readonly<Record<string, unknown>>): CognitoCallerResult {
  const username = typeof claims['cognito:username'] === 'string' ? claims['cognito:username'] : typeof claims.sub === 'string' ? claims.sub : undefined;
  const clientName = `cognito:${(username ?? 'unknown').slice(0, 128)}`;
  const refuse = (reason: string): CognitoCallerResult => ({ refused: { clientName, method: 'cognito', role: 'auditor', bics: [] }, reason });
  if (username === undefined) return refuse('the token names no user');
  if (claims.token_use !== undefined && claims.token_use !== 'id') return refuse('the console signs in with an ID token');
  const groups = groupsOf(claims['cognito:groups']);
  if (groups.length > cognitoGroupsMax) return refuse(`the user is in more than ${cognitoGroupsMax} groups`);
  const roles = new Set<Role>();
  const bics: string[] = [];
  for (const group of groups) {
    if (group in roleOfGroup) roles.add(roleOfGroup[group]);
    else if (group.startsWith(participantGroupPrefix) && bicPattern.test(group.slice(participantGroupPrefix.length))) {
      roles.add('participant');
      bics.push(bicKey(group.slice(participantGroupPrefix.length)));
    }
  }
  if (roles.size === 0) return refuse('the user is in no role group (operator, auditor, participant-<BIC>)');
  if (roles.size > 1) return refuse(`the user's groups name more than one role (${[...roles].sort().join(', ')})`);
  const [role] = roles;
  return { principal: { clientName, method: 'cognito', role, bics: role === 'participant' ? [...new Set(bics)] : [] } };
}

/**
 * `cognito:groups` as API Gateway passes it: its authorizers flatten the token's array into a string (every claim
 * value is a string), seen as `operator`, `operator,auditor` or `[operator auditor]`; an array is taken as is.
 */
function groupsOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((group): group is string => typeof group === 'string');
  if (typeof value !== 'string') return [];
  return value
    .replace(/^\[|\]$/g, '')
    .split(/[\s,]+/)
    .filter((group) => group !== '');
}
