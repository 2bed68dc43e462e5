import { AwsSolutionsChecks } from 'cdk-nag';
import { synthesizeEngine } from './engine-app';
const s = synthesizeEngine();
const report = new AwsSolutionsChecks(s.app).validateScope(s.app);
for (const v of report.violations) console.log(v.severity, v.ruleName, v.violatingResources.map((r: any) => r.constructPath + ' ' + (r.locations ?? '')).join(', '));
