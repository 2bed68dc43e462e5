import { AccessControl, httpCredentials } from '../../../lambdas/adapters/auth/access-control';
import { hashApiKey, parseApiKeys } from '../../../lambdas/adapters/auth/api-keys';
import { readAccessConfiguration } from '../../../lambdas/adapters/auth/config';
import { RateLimitedError, UnauthenticatedError } from '../../../lambdas/domain/errors';

describe('AccessControl', () => {
  const key = 'the-key-of-ops';
  const control = () => new AccessControl({ apiKeys: parseApiKeys(`ops:${hashApiKey(key)}`), rateLimit: { ratePerSecond: 1, burst: 2 }, nowMs: () => 0 });

  it('admits a valid key and names the client', () => {
    expect(control().admit({ authorization: `Bearer ${key}` })).toEqual({ clientName: 'ops', method: 'api-key', role: 'service', bics: [] });
    expect(control().admit({ apiKey: key })).toEqual({ clientName: 'ops', method: 'api-key', role: 'service', bics: [] });
  });

  it('refuses missing, malformed and wrong credentials with UnauthenticatedError', () => {
    expect(() => control().admit({})).toThrow(UnauthenticatedError);
    expect(() => control().admit({})).toThrow(/credentials required/);
    expect(() => control().admit({ authorization: key })).toThrow(/Bearer/);
    expect(() => control().admit({ apiKey: 'nope' })).toThrow(/not valid/);
  });

  it('accepts a verified client certificate, but never ignores a wrong key next to it', () => {
    expect(control().admit({ verifiedCertificateName: 'payments-gateway' })).toEqual({ clientName: 'cert:payments-gateway', method: 'client-certificate', role: 'service', bics: [] });
    expect(() => control().admit({ verifiedCertificateName: 'payments-gateway', apiKey: 'nope' })).toThrow(UnauthenticatedError);
  });

  it('refuses beyond the rate with RateLimitedError', () => {
    const access = control();
    access.admit({ apiKey: key });
    access.admit({ apiKey: key });
    expect(() => access.admit({ apiKey: key })).toThrow(RateLimitedError);
  });

  it('reads credentials from HTTP headers of any case', () => {
    expect(httpCredentials({ Authorization: 'Bearer a', 'X-Api-Key': 'b' })).toEqual({ authorization: 'Bearer a', apiKey: 'b' });
    expect(httpCredentials(null)).toEqual({ authorization: undefined, apiKey: undefined });
  });
});

describe('readAccessConfiguration', () => {
  it('generates a development key when API_KEYS is unset and the caller allows it', () => {
    const configuration = readAccessConfiguration({}, { developmentKeyWhenUnset: true });
    expect(configuration.developmentKey).toBeDefined();
    expect(new AccessControl(configuration).admit({ apiKey: configuration.developmentKey!.key }).clientName).toBe('local-dev');
    expect(configuration.rateLimit).toEqual({ ratePerSecond: 500, burst: 1000 });
    expect(configuration.grpcTls).toBeUndefined();
  });

  it('requires API_KEYS where no development key is allowed', () => {
    expect(() => readAccessConfiguration({}, { developmentKeyWhenUnset: false })).toThrow(/^API_KEYS: is required/);
  });

  it('reads limits and refuses bad values naming the variable', () => {
    const configuration = readAccessConfiguration({ RATE_LIMIT_PER_SECOND: '5', RATE_LIMIT_BURST: '7', GRPC_MAX_RECEIVE_MESSAGE_BYTES: '1024', HTTP_BODY_BYTES_MAX: '2048' }, { developmentKeyWhenUnset: true });
    expect(configuration).toMatchObject({ rateLimit: { ratePerSecond: 5, burst: 7 }, grpcMessageBytesMax: 1024, httpBodyBytesMax: 2048 });
    expect(() => readAccessConfiguration({ RATE_LIMIT_BURST: 'many' }, { developmentKeyWhenUnset: true })).toThrow(/^RATE_LIMIT_BURST: /);
  });

  it('needs all three TLS paths, and reads them', () => {
    expect(() => readAccessConfiguration({ GRPC_TLS_CERT: '/c' }, { developmentKeyWhenUnset: true })).toThrow(/^GRPC_TLS_KEY: must be set together with GRPC_TLS_CERT/);
    const files: Record<string, string> = { '/c': 'cert', '/k': 'key', '/ca': 'ca' };
    const configuration = readAccessConfiguration({ GRPC_TLS_CERT: '/c', GRPC_TLS_KEY: '/k', GRPC_TLS_CLIENT_CA: '/ca' }, { developmentKeyWhenUnset: true, readFile: (path) => Buffer.from(files[path]) });
    expect(configuration.grpcTls?.clientCertificateAuthority.toString()).toBe('ca');
    expect(() => readAccessConfiguration({ GRPC_TLS_CERT: '/c', GRPC_TLS_KEY: '/k', GRPC_TLS_CLIENT_CA: '/missing' }, { developmentKeyWhenUnset: true, readFile: () => { throw new Error('ENOENT'); } })).toThrow(/^GRPC_TLS_CERT: .*cannot read/);
  });
});
