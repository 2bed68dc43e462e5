/**
 * Mutual TLS on the gRPC server with certificates made for the test (openssl): a client without a certificate
 * signed by the configured CA cannot even connect; one with it is identified by its certificate's common name.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { readAccessConfiguration } from '../../../lambdas/adapters/auth/config';
import { SettlementClient } from '../../../lambdas/adapters/grpc/client';
import { createGrpcServer, type SettlementGrpcServer } from '../../../lambdas/adapters/grpc/server';
import { FakeEngine } from './fakes';

const directory = mkdtempSync(join(tmpdir(), 'mtls-'));
const file = (name: string) => join(directory, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });

function issue(name: string, commonName: string, ca: string, extensions?: string): void {
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file(`${name}.key`), '-subj', `/CN=${commonName}`, '-out', file(`${name}.csr`));
  const extensionArgs = extensions ? ['-extfile', file(`${name}.ext`)] : [];
  if (extensions) writeFileSync(file(`${name}.ext`), extensions);
  openssl('x509', '-req', '-in', file(`${name}.csr`), '-CA', file(`${ca}.crt`), '-CAkey', file(`${ca}.key`), '-CAcreateserial', '-days', '1', '-out', file(`${name}.crt`), ...extensionArgs);
}

describe('gRPC with mutual TLS', () => {
  let server: SettlementGrpcServer;
  let address: string;

  beforeAll(async () => {
    for (const ca of ['ca', 'rogue-ca']) openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file(`${ca}.key`), '-subj', `/CN=${ca}`, '-days', '1', '-out', file(`${ca}.crt`));
    issue('server', 'localhost', 'ca', 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    issue('client', 'payments-gateway', 'ca');
    issue('rogue', 'intruder', 'rogue-ca');
    const access = readAccessConfiguration(
      { API_KEYS: `someone:${'0'.repeat(64)}`, GRPC_TLS_CERT: file('server.crt'), GRPC_TLS_KEY: file('server.key'), GRPC_TLS_CLIENT_CA: file('ca.crt') },
      { developmentKeyWhenUnset: false },
    );
    server = createGrpcServer({ deps: new FakeEngine(), access });
    address = `localhost:${await server.listen(0, '127.0.0.1')}`;
  });

  afterAll(async () => {
    await server?.stop(100);
    rmSync(directory, { recursive: true, force: true });
  });

  const clientWith = (certificate?: string) =>
    new SettlementClient({
      address,
      tls: { rootCertificate: readFileSync(file('ca.crt')), ...(certificate && { certificateChain: readFileSync(file(`${certificate}.crt`)), privateKey: readFileSync(file(`${certificate}.key`)) }) },
    });

  it('admits a client whose certificate the CA signed, with no API key', async () => {
    const client = clientWith('client');
    try {
      await expect(client.call('GetNostroBalance', { bic: 'DEUTDEFF', currency: 'EUR' }, { deadlineMs: 5_000 })).resolves.toMatchObject({ account: { account_id: 'NOSTRO#DEUTDEFF#EUR' } });
    } finally {
      client.close();
    }
  });

  it.each([
    ['without a certificate', undefined],
    ['with a certificate another CA signed', 'rogue'],
  ])('refuses a client %s at the handshake', async (_label, certificate) => {
    const client = clientWith(certificate);
    try {
      await expect(client.call('GetNostroBalance', { bic: 'DEUTDEFF', currency: 'EUR' }, { deadlineMs: 5_000 })).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    } finally {
      client.close();
    }
  });

  it('takes the certificate, key and CA as PEM content (ECS secrets on a read-only filesystem) as well as file paths', async () => {
    const pem = (name: string) => readFileSync(file(name), 'utf8');
    const access = readAccessConfiguration(
      { API_KEYS: `someone:${'0'.repeat(64)}`, GRPC_TLS_CERT: pem('server.crt'), GRPC_TLS_KEY: pem('server.key'), GRPC_TLS_CLIENT_CA: pem('ca.crt') },
      { developmentKeyWhenUnset: false, readFile: () => { throw new Error('no file may be read'); } },
    );
    const fromContent = createGrpcServer({ deps: new FakeEngine(), access });
    const client = new SettlementClient({
      address: `localhost:${await fromContent.listen(0, '127.0.0.1')}`,
      tls: { rootCertificate: readFileSync(file('ca.crt')), certificateChain: readFileSync(file('client.crt')), privateKey: readFileSync(file('client.key')) },
    });
    try {
      await expect(client.call('GetNostroBalance', { bic: 'DEUTDEFF', currency: 'EUR' }, { deadlineMs: 5_000 })).resolves.toMatchObject({ account: { account_id: 'NOSTRO#DEUTDEFF#EUR' } });
    } finally {
      client.close();
      await fromContent.stop(100);
    }
  });
});
