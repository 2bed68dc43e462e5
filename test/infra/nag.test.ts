import { AwsSolutionsChecks } from 'cdk-nag';
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { removeAssembly, synthesizeEngine, type SynthesizedEngine } from './support/engine-app';

describe('cdk-nag AwsSolutions checks', () => {
  let synthesized: SynthesizedEngine;
  beforeAll(() => {
    synthesized = synthesizeEngine({ withConsole: true });
  });
  afterAll(() => removeAssembly(synthesized));

  it('find no unacknowledged error or warning in any of the three stacks', () => {
    expect(synthesized.stacks.console).toBeDefined();
    const report = new AwsSolutionsChecks(synthesized.app).validateScope(synthesized.app);
    const findings = report.violations.map(
      (violation) => `${violation.severity} ${violation.ruleName}: ${violation.violatingResources.map((resource) => resource.constructPath).join(', ')}`,
    );
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('carry a written reason with every acknowledgement', () => {
    // CDK acknowledges some of its own CloudFormation-Validate rules; ours are the AwsSolutions ones.
    const acknowledgements = collectAcknowledgements(synthesized.app).filter(({ rule }) => rule.startsWith('AwsSolutions-'));
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const { reason } of acknowledgements) expect(reason.length).toBeGreaterThan(40);
  });
});

function collectAcknowledgements(root: IConstruct): { rule: string; reason: string }[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>).map(([rule, reason]) => ({ rule: rule.replace(/^annotation::/i, ''), reason }))),
  );
}
