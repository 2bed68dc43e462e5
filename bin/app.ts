/**
 * The CDK app: `npm run synth`, `npx cdk deploy --all`. Configuration comes from CDK context (cdk.json or
 * `-c key=value`, see docs/deploy.md); cdk-nag's AwsSolutions checks run on every synth.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { settlementEngineConfigFromContext } from '../infra/config';
import { buildSettlementEngine } from '../infra/settlement-engine';
import { apiRoutes } from '../lambdas/handlers/routes';

const app = new App();
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
// The REST handler's route table decides which routes API Gateway exposes; infra itself imports no handler code.
buildSettlementEngine(app, settlementEngineConfigFromContext((key) => app.node.tryGetContext(key)), apiRoutes);
app.synth();
