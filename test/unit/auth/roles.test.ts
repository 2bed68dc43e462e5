import { AccessControl } from '../../../lambdas/adapters/auth/access-control';
import { AccessConfigurationError, hashApiKey, parseApiKeys } from '../../../lambdas/adapters/auth/api-keys';
import { IdentityRoles } from '../../../lambdas/adapters/auth/identity-roles';
import { ForbiddenError, Permission, authorize, isGranted, mutatingPermissions, requireParty, requirePayer, roles, type Principal } from '../../../lambdas/domain/access';

const digest = (key: string) => hashApiKey(key);
const participant: Principal = { clientName: 'deut', method: 'api-key', role: 'participant', bics: ['DEUTDEFF'] };

describe('API_KEYS with roles', () => {
  it('reads clientName:role:BIC+BIC:digest, and a legacy entry as a service key', () => {
    const entries = parseApiKeys(`deut:participant:DEUTDEFF+DEUTDEFFXXX+DEUTDEBB:${digest('a')}, ops:operator:${digest('b')}, old:${digest('c')}`);
    expect(entries.map(({ clientName, role, bics }) => ({ clientName, role, bics }))).toEqual([
      { clientName: 'deut', role: 'participant', bics: ['DEUTDEFF', 'DEUTDEBB'] },
      { clientName: 'ops', role: 'operator', bics: [] },
      { clientName: 'old', role: 'service', bics: [] },
    ]);
  });

  it.each([
    [`x:boss:${digest('a')}`, /role must be one of participant, operator, auditor, service/],
    [`x:participant:${digest('a')}`, /must name the BIC/],
    [`x:operator:DEUTDEFF:${digest('a')}`, /only a participant is bound to BICs/],
    [`x:participant:deutdeff:${digest('a')}`, /is not a BIC/],
    [`x:operator:${digest('a')},x:auditor:${digest('b')}`, /second role/],
  ])('refuses %j naming the variable', (value, message) => {
    expect(() => parseApiKeys(value)).toThrow(AccessConfigurationError);
    expect(() => parseApiKeys(value)).toThrow(message);
  });
});

describe('PRINCIPAL_ROLES', () => {
  it('binds certificates and IAM principals; an unlisted one has no role once any is configured', () => {
    const identities = IdentityRoles.parse('cert:gw-deut=participant:DEUTDEFF,arn:aws:iam::123456789012:role/ops=operator');
    expect(identities.bindingOf('cert:gw-deut')).toEqual({ role: 'participant', bics: ['DEUTDEFF'] });
    expect(identities.bindingOf('arn:aws:iam::123456789012:role/ops')).toEqual({ role: 'operator', bics: [] });
    expect(identities.bindingOf('cert:someone-else')).toBeUndefined();
    expect(IdentityRoles.parse(undefined).bindingOf('cert:anyone')).toEqual({ role: 'service', bics: [] });
    expect(() => IdentityRoles.parse('cert:a=root')).toThrow(/^PRINCIPAL_ROLES: .*role must be one of/);
  });

  it('refuses a verified certificate without a role with ForbiddenError', () => {
    const control = new AccessControl({ apiKeys: parseApiKeys(`x:${digest('k')}`), rateLimit: { ratePerSecond: 10, burst: 10 }, identityRoles: IdentityRoles.parse('cert:gw=auditor') });
    expect(control.admit({ verifiedCertificateName: 'gw' })).toMatchObject({ clientName: 'cert:gw', role: 'auditor' });
    expect(() => control.admit({ verifiedCertificateName: 'intruder' })).toThrow(ForbiddenError);
  });
});

describe('the access policy', () => {
  it('grants an auditor no mutating permission and a participant no administration', () => {
    const auditor: Principal = { clientName: 'aud', method: 'api-key', role: 'auditor', bics: [] };
    for (const permission of mutatingPermissions) expect(() => authorize(auditor, permission)).toThrow(ForbiddenError);
    for (const permission of [Permission.operationsRead, Permission.operationsWrite, Permission.auditRead, Permission.proposalDecide]) expect(isGranted(participant, permission)).toBe(false);
    expect(roles.filter((role) => isGranted({ ...participant, role, bics: [] }, Permission.proposalDecide))).toEqual(['operator']);
  });

  it('lets a participant pay only as its own BIC (either spelling) and read only what it is party to', () => {
    expect(() => requirePayer(participant, 'DEUTDEFF')).not.toThrow();
    expect(() => requirePayer(participant, 'DEUTDEFFXXX')).not.toThrow();
    expect(() => requirePayer(participant, 'BNPAFRPP')).toThrow(/payerBic must be one of the banks this key acts for \(DEUTDEFF\)/);
    expect(() => requirePayer(participant, undefined)).toThrow(ForbiddenError);
    expect(() => requireParty(participant, Permission.settlementRead, ['BNPAFRPP', 'DEUTDEFF'])).not.toThrow();
    expect(() => requireParty(participant, Permission.settlementRead, ['BNPAFRPP', 'INGBNL2A'])).toThrow(ForbiddenError);
  });
});
