/**
 * Dependencies of the Lambda functions: the configuration parsed once per container (lambdas/config.ts; CDK sets the
 * variables), and the engine built from it by the composition root. A missing or malformed variable fails the
 * first invocation with a ConfigurationError naming it (the function's error metric and alarm show it at once).
 */
import { createDocumentClient } from '../adapters/dynamodb/client';
import { composeEngine } from '../composition';
import { ConfigurationError, lambdaConfig, type EngineConfig, type Environment } from '../config';
import type { ApiDeps } from './http';

export interface LambdaNeeds {
  /** The function starts executions (API, retry and recovery jobs): STATE_MACHINE_ARN is then required. */
  readonly startsExecutions?: boolean;
}

let cached: { deps: ApiDeps; config: EngineConfig } | undefined;

/** Lazily built so that importing a handler module has no side effects (tests, bundling). */
export function lambdaDeps(needs: LambdaNeeds = {}, env: Environment = process.env): ApiDeps {
  return lambdaEngine(needs, env).deps;
}

export function lambdaEngine(needs: LambdaNeeds = {}, env: Environment = process.env): { deps: ApiDeps; config: EngineConfig } {
  if (cached === undefined) {
    const config = lambdaConfig(env);
    if (needs.startsExecutions && config.workflow.adapter !== 'step-functions') {
      throw new ConfigurationError(['STATE_MACHINE_ARN'], ['STATE_MACHINE_ARN is required: this function starts executions']);
    }
    cached = { deps: composeEngine(config, createDocumentClient()).deps, config };
  }
  return cached;
}
