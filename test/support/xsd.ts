/**
 * Validates XML against the vendored official ISO 20022 schemas (schemas/iso20022/) with xmllint compiled to
 * WebAssembly (xmllint-wasm): libxml2's own validator, no native install needed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateXML } from 'xmllint-wasm';
import type { MessageDefinition } from '../../lambdas/adapters/banks/iso20022/messages';

const schemaDirectory = join(__dirname, '..', '..', 'schemas', 'iso20022');
const schemas = new Map<string, string>();

export async function xsdErrors(definition: MessageDefinition, xml: string): Promise<string[]> {
  let schema = schemas.get(definition);
  if (!schema) {
    schema = readFileSync(join(schemaDirectory, `${definition}.xsd`), 'utf8');
    schemas.set(definition, schema);
  }
  const result = await validateXML({ xml: [{ fileName: 'message.xml', contents: xml }], schema: [{ fileName: `${definition}.xsd`, contents: schema }] });
  return result.valid ? [] : result.errors.map((error) => error.message);
}
