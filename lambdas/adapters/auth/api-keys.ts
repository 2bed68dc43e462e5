/**
 * API keys: configured as `clientName[:role[:BIC+BIC]]:sha256hex` entries (only digests at rest), verified in
 * constant time. An entry without a role is a `service` key (full access, as every key had before roles existed);
 * a participant entry names the BIC or BICs it acts for.
 *
 * A presented key is hashed with SHA-256 and its digest compared with every configured digest through
 * crypto.timingSafeEqual, without stopping at a match, so neither the position of a match nor a common prefix
 * shows in the timing. Keys are 256-bit random strings, so an unsalted fast hash is the right tool here (a slow
 * password hash protects low-entropy secrets, which these are not).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { bicKey, roles, type Role } from '../../domain/access';

export interface ApiKeyEntry {
  readonly clientName: string;
  /** SHA-256 digest of the key (32 bytes). */
  readonly digest: Buffer;
  readonly role: Role;
  /** Participant keys: the BICs it acts for (8-character form). */
  readonly bics: readonly string[];
}

/** BICs one participant key may act for at most. */
export const participantBicsMax = 32;
const bicPattern = /^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$/;

/** Configured entries accepted at most; a longer list is a configuration mistake. */
export const apiKeysConfiguredMax = 1_000;
/** Longest key accepted from a caller; longer input is refused before hashing. */
export const apiKeyLengthMax = 256;
export const clientNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const developmentClientName = 'local-dev';

/** A configuration value that cannot be used; names the variable so the operator knows what to fix. */
export class AccessConfigurationError extends Error {
  override readonly name = 'AccessConfigurationError' as const;
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`${variable}: ${reason}`);
  }
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * Parses `API_KEYS`: comma-separated `clientName[:role[:BIC+BIC]]:sha256hex` entries. A client may have several
 * keys (rotation) but one role; a digest may appear once. Throws AccessConfigurationError on any malformed entry: a
 * half-read key list would lock out a client silently, and a misread role would grant the wrong rights.
 */
export function parseApiKeys(config: string, variable = 'API_KEYS'): ApiKeyEntry[] {
  const entries = config
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) throw new AccessConfigurationError(variable, 'holds no entry (expected clientName[:role[:BIC+BIC]]:sha256hex, comma-separated)');
  if (entries.length > apiKeysConfiguredMax) throw new AccessConfigurationError(variable, `holds more than ${apiKeysConfiguredMax} entries`);
  const seen = new Set<string>();
  const roleOfClient = new Map<string, string>();
  return entries.map((entry, index) => {
    const parts = entry.split(':');
    const clientName = parts[0];
    const digestHex = parts[parts.length - 1].toLowerCase();
    if (parts.length < 2 || parts.length > 4 || !clientNamePattern.test(clientName)) {
      throw new AccessConfigurationError(variable, `entry ${index + 1} must be clientName[:role[:BIC+BIC]]:sha256hex with a client name of letters, digits, . _ - (at most 64)`);
    }
    if (!/^[0-9a-f]{64}$/.test(digestHex)) throw new AccessConfigurationError(variable, `entry ${index + 1} (${clientName}) must carry a 64-digit hex SHA-256 digest of the key, not the key`);
    if (seen.has(digestHex)) throw new AccessConfigurationError(variable, `entry ${index + 1} (${clientName}) repeats a digest`);
    seen.add(digestHex);
    const binding = parseRoleBinding(parts.length >= 3 ? parts[1] : 'service', parts.length === 4 ? parts[2] : undefined, variable, `entry ${index + 1} (${clientName})`);
    const bindingText = `${binding.role}:${binding.bics.join('+')}`;
    if ((roleOfClient.get(clientName) ?? bindingText) !== bindingText) throw new AccessConfigurationError(variable, `entry ${index + 1} (${clientName}) gives the client a second role or BIC list`);
    roleOfClient.set(clientName, bindingText);
    return { clientName, digest: Buffer.from(digestHex, 'hex'), ...binding };
  });
}

/** A role and, for a participant (required there, refused elsewhere), its `+`-separated BICs. */
export function parseRoleBinding(roleText: string, bicsText: string | undefined, variable: string, where: string): { role: Role; bics: readonly string[] } {
  const role = roles.find((candidate) => candidate === roleText);
  if (role === undefined) throw new AccessConfigurationError(variable, `${where}: role must be one of ${roles.join(', ')}, got "${roleText.slice(0, 32)}"`);
  if (role !== 'participant') {
    if (bicsText !== undefined) throw new AccessConfigurationError(variable, `${where}: only a participant is bound to BICs`);
    return { role, bics: [] };
  }
  const bics = (bicsText ?? '').split('+').filter((bic) => bic !== '');
  if (bics.length === 0) throw new AccessConfigurationError(variable, `${where}: a participant must name the BIC(s) it acts for (participant:BIC+BIC)`);
  if (bics.length > participantBicsMax) throw new AccessConfigurationError(variable, `${where}: at most ${participantBicsMax} BICs`);
  for (const bic of bics) if (!bicPattern.test(bic)) throw new AccessConfigurationError(variable, `${where}: "${bic.slice(0, 20)}" is not a BIC`);
  return { role, bics: [...new Set(bics.map(bicKey))] };
}

export class ApiKeyVerifier {
  readonly #entries: readonly ApiKeyEntry[];

  constructor(entries: readonly ApiKeyEntry[]) {
    this.#entries = entries;
  }

  get size(): number {
    return this.#entries.length;
  }

  /** The entry the key belongs to, or undefined. Time depends only on the number of configured entries. */
  verify(key: string): ApiKeyEntry | undefined {
    if (key.length === 0 || key.length > apiKeyLengthMax) return undefined;
    const digest = createHash('sha256').update(key, 'utf8').digest();
    let found: ApiKeyEntry | undefined;
    for (const entry of this.#entries) {
      // Every entry is compared, match or not.
      if (timingSafeEqual(digest, entry.digest) && found === undefined) found = entry;
    }
    return found;
  }
}

export interface DevelopmentKey {
  readonly clientName: string;
  /** The key to send (print it once; it is not stored anywhere). */
  readonly key: string;
  /** The `API_KEYS` entry that accepts it: `clientName:sha256hex`. */
  readonly hashedConfig: string;
}

/** A fresh random key for `npm start` when API_KEYS is unset; the engine prints it at start-up. */
export function generateDevelopmentKey(clientName = developmentClientName): DevelopmentKey {
  if (!clientNamePattern.test(clientName)) throw new AccessConfigurationError('clientName', 'letters, digits, . _ - only');
  const key = `sk_dev_${randomBytes(32).toString('base64url')}`;
  return { clientName, key, hashedConfig: `${clientName}:${hashApiKey(key)}` };
}

/** Credentials as found on a request, before verification. */
export interface PresentedCredentials {
  /** The `authorization` header / metadata value. */
  readonly authorization?: string;
  /** The `x-api-key` header / metadata value. */
  readonly apiKey?: string;
}

/** The key a request presents: `Authorization: Bearer <key>` first, else `x-api-key`. Undefined when none. */
export function presentedApiKey(credentials: PresentedCredentials): string | undefined {
  const bearer = credentials.authorization === undefined ? undefined : /^Bearer[ \t]+(\S+)\s*$/i.exec(credentials.authorization)?.[1];
  if (bearer !== undefined) return bearer;
  const apiKey = credentials.apiKey?.trim();
  return apiKey === undefined || apiKey === '' ? undefined : apiKey;
}
