import * as fs from 'node:fs';
import * as path from 'node:path';
import { allFunctions } from '../../infra/function-catalogue';
import { logicalIdOf, removeAssembly, synthesizeEngine, type SynthesizedEngine } from './support/engine-app';

describe('synthesis with real bundling', () => {
  let synthesized: SynthesizedEngine;
  const previousDocker = process.env.CDK_DOCKER;

  beforeAll(() => {
    // Any attempt to run Docker (bundling fallback, image build) would fail on this path.
    process.env.CDK_DOCKER = path.join(__dirname, 'docker-must-not-run');
    synthesized = synthesizeEngine({ bundle: true });
  });
  afterAll(() => {
    if (previousDocker === undefined) delete process.env.CDK_DOCKER;
    else process.env.CDK_DOCKER = previousDocker;
    removeAssembly(synthesized);
  });

  it.each(allFunctions.map((spec) => [spec.id, spec] as const))('bundles %s with the local esbuild into index.js with a source map', (_id, spec) => {
    const functionId = logicalIdOf(synthesized.stacks.engine.functions[spec.id]!.function);
    const code = synthesized.engine.toJSON().Resources[functionId].Properties.Code as { S3Key: string };
    const hash = code.S3Key.replace(/\.zip$/, '');
    const bundleDirectory = path.join(synthesized.assembly.directory, `asset.${hash}`);
    const bundle = fs.readFileSync(path.join(bundleDirectory, 'index.js'), 'utf8');
    expect(bundle.length).toBeGreaterThan(0);
    expect(bundle).toContain(spec.exportName);
    expect(fs.existsSync(path.join(bundleDirectory, 'index.js.map'))).toBe(true);
  });

  it('shares one bundle among functions of the same handler module', () => {
    const keys = new Set(
      allFunctions
        .filter((spec) => spec.module === 'stages')
        .map((spec) => JSON.stringify(synthesized.engine.toJSON().Resources[logicalIdOf(synthesized.stacks.engine.functions[spec.id]!.function)].Properties.Code)),
    );
    expect(keys.size).toBe(1);
  });
});
