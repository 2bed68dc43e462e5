/**
 * cdk-nag (v3) acknowledgements: each one names the rule (or the single finding, `Rule[Finding]`) and says why it
 * does not apply, on the narrowest construct that carries it. test/infra/nag.test.ts fails on anything else.
 */
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}
