/**
 * `npm run bank-simulator`: the bank simulator alone (npm start also starts it). Configuration: BANK_SIMULATOR_PORT
 * (18543), BANK_SIMULATOR_HOST, BANK_SIMULATOR_DATA_DIR (.data/bank-simulator: certificates), BANK_SIMULATOR_CONFIG
 * (a JSON file of scenarios per BIC and opening balances; docs/rails.md).
 */
import { startBankSimulator } from '../simulator/bank-simulator';
import { simulatorOptionsFromEnvironment } from '../simulator/configuration';

async function main(): Promise<void> {
  const options = simulatorOptionsFromEnvironment(process.env);
  const simulator = await startBankSimulator(options);
  // The first line is the readiness signal `npm start` waits for.
  console.log(`bank simulator listening on ${simulator.url}`);
  console.log(`  mutual TLS: CA ${simulator.certificates.paths.ca}, client certificate ${simulator.certificates.paths.clientCert} (key ${simulator.certificates.paths.clientKey})`);
  const shutdown = async () => {
    await simulator.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
}

main().catch((error: unknown) => {
  console.error('bank simulator failed to start:', error);
  process.exit(1);
});
