/**
 * The bank simulator's configuration from environment variables, shared by its entry point and `npm start`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BankSimulatorOptions } from './bank-simulator';
import type { BankScenario } from './scenarios';

export interface SimulatorFile {
  /** Scenario per beneficiary (creditor agent) BIC. */
  readonly scenariosByBic?: Record<string, BankScenario>;
  /** Opening balance per account id; absent: the nostro opening balances of config/demo-seed.json. */
  readonly openingBalances?: Record<string, string>;
}

export const simulatorDataDirectoryDefault = '.data/bank-simulator';
const repositoryRoot = join(__dirname, '..');

export function simulatorOptionsFromEnvironment(env: NodeJS.ProcessEnv): BankSimulatorOptions {
  const file: SimulatorFile = env.BANK_SIMULATOR_CONFIG ? (JSON.parse(readFileSync(env.BANK_SIMULATOR_CONFIG, 'utf8')) as SimulatorFile) : {};
  const port = env.BANK_SIMULATOR_PORT ? Number(env.BANK_SIMULATOR_PORT) : undefined;
  if (port !== undefined && (!Number.isSafeInteger(port) || port < 0 || port > 65_535)) throw new Error(`configuration: BANK_SIMULATOR_PORT must be a port number, got "${env.BANK_SIMULATOR_PORT}"`);
  return {
    ...(port !== undefined && { port }),
    host: env.BANK_SIMULATOR_HOST ?? '127.0.0.1',
    dataDirectory: env.BANK_SIMULATOR_DATA_DIR ?? simulatorDataDirectoryDefault,
    scenariosByBic: file.scenariosByBic ?? {},
    openingBalances: file.openingBalances ?? seedNostroBalances(),
  };
}

/** The bank opened our nostro with the amount the engine's seed records: both books start equal. */
function seedNostroBalances(): Record<string, string> {
  const seed = JSON.parse(readFileSync(join(repositoryRoot, 'config', 'demo-seed.json'), 'utf8')) as { accounts: Array<{ accountType: string; bic: string; currency: string; openingBalance: string }> };
  return Object.fromEntries(seed.accounts.filter((account) => account.accountType === 'NOSTRO').map((account) => [`NOSTRO#${account.bic}#${account.currency}`, account.openingBalance]));
}
