/**
 * Certificates for the bank simulator's mutual TLS, made on first start into its data directory and reused after:
 * a private CA, the gateway's server certificate (localhost, 127.0.0.1) and the engine's client certificate, both
 * signed by that CA. The engine trusts the CA for the server and presents the client certificate; the simulator
 * accepts only clients with a certificate from its CA. Made with `selfsigned` (WebCrypto, P-256 keys).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export interface SimulatorCertificates {
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** Where each file lives, for configuring the engine with paths. */
  readonly paths: { readonly ca: string; readonly clientCert: string; readonly clientKey: string };
}

const files = { caCert: 'ca.crt', caKey: 'ca.key', serverCert: 'server.crt', serverKey: 'server.key', clientCert: 'client.crt', clientKey: 'client.key' } as const;
/** Validity of the certificates made here: a development CA, renewed by deleting the directory. */
const validityDays = 825;

export async function ensureCertificates(directory: string): Promise<SimulatorCertificates> {
  const path = (name: string) => join(directory, name);
  if (!Object.values(files).every((name) => existsSync(path(name)))) await createCertificates(directory);
  const read = (name: string) => readFileSync(path(name), 'utf8');
  return {
    ca: read(files.caCert),
    serverCert: read(files.serverCert),
    serverKey: read(files.serverKey),
    clientCert: read(files.clientCert),
    clientKey: read(files.clientKey),
    paths: { ca: path(files.caCert), clientCert: path(files.clientCert), clientKey: path(files.clientKey) },
  };
}

async function createCertificates(directory: string): Promise<void> {
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + validityDays * 86_400_000);
  const common = { keyType: 'ec' as const, curve: 'P-256' as const, algorithm: 'sha256', notBeforeDate, notAfterDate };
  const ca = await generate([{ name: 'commonName', value: 'Bank Simulator Development CA' }], {
    ...common,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const signedBy = { key: ca.private, cert: ca.cert };
  const server = await generate([{ name: 'commonName', value: 'localhost' }], {
    ...common,
    ca: signedBy,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  });
  const client = await generate([{ name: 'commonName', value: 'settlement-engine' }], {
    ...common,
    ca: signedBy,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', clientAuth: true },
    ],
  });
  const write = (name: string, pem: string, secret: boolean) => writeFileSync(join(directory, name), pem, { mode: secret ? 0o600 : 0o644 });
  write(files.caCert, ca.cert, false);
  write(files.caKey, ca.private, true);
  write(files.serverCert, server.cert, false);
  write(files.serverKey, server.private, true);
  write(files.clientCert, client.cert, false);
  write(files.clientKey, client.private, true);
}
