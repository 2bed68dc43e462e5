import { ApiKeyVerifier, generateDevelopmentKey, hashApiKey, parseApiKeys, presentedApiKey, AccessConfigurationError } from '../../../lambdas/adapters/auth/api-keys';

describe('API keys', () => {
  const alice = 'key-of-alice-0123456789';
  const bob = 'key-of-bob-9876543210';
  const config = `alice:${hashApiKey(alice)}, bob:${hashApiKey(bob).toUpperCase()}`;

  it('verifies a configured key to its client name and refuses any other', () => {
    const verifier = new ApiKeyVerifier(parseApiKeys(config));
    expect(verifier.verify(alice)?.clientName).toBe('alice');
    expect(verifier.verify(bob)?.clientName).toBe('bob');
    expect(verifier.verify(`${alice}x`)).toBeUndefined();
    expect(verifier.verify('')).toBeUndefined();
    expect(verifier.verify('k'.repeat(10_000))).toBeUndefined();
  });

  it('keeps only digests at rest', () => {
    const entries = parseApiKeys(config);
    expect(entries.map((entry) => entry.digest.length)).toEqual([32, 32]);
    expect(JSON.stringify(entries)).not.toContain(alice);
  });

  it.each([
    ['', /holds no entry/],
    ['alice', /clientName\[:role\[:BIC\+BIC\]\]:sha256hex/],
    [`alice:${alice}`, /64-digit hex SHA-256 digest/],
    [`bad name:${hashApiKey(alice)}`, /clientName\[:role\[:BIC\+BIC\]\]:sha256hex/],
    [`a:${hashApiKey(alice)},b:${hashApiKey(alice)}`, /repeats a digest/],
  ])('refuses API_KEYS=%j naming the variable', (value, message) => {
    expect(() => parseApiKeys(value)).toThrow(AccessConfigurationError);
    expect(() => parseApiKeys(value)).toThrow(message);
    expect(() => parseApiKeys(value)).toThrow(/^API_KEYS: /);
  });

  it('generates a development key whose hashed config accepts it', () => {
    const development = generateDevelopmentKey();
    expect(development.clientName).toBe('local-dev');
    expect(development.key).toMatch(/^sk_dev_[A-Za-z0-9_-]{43}$/);
    expect(new ApiKeyVerifier(parseApiKeys(development.hashedConfig)).verify(development.key)?.clientName).toBe('local-dev');
    expect(generateDevelopmentKey().key).not.toBe(development.key);
  });

  it('reads the key from a Bearer authorization, else from x-api-key', () => {
    expect(presentedApiKey({ authorization: 'Bearer abc', apiKey: 'def' })).toBe('abc');
    expect(presentedApiKey({ authorization: 'bearer   abc ' })).toBe('abc');
    expect(presentedApiKey({ apiKey: ' def ' })).toBe('def');
    expect(presentedApiKey({ authorization: 'Basic abc' })).toBeUndefined();
    expect(presentedApiKey({})).toBeUndefined();
  });
});
