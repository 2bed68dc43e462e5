/**
 * Hardened XML reading for bank messages: one small element tree from untrusted bytes, refused cheaply when hostile.
 *
 * saxes (a maintained, non-validating, namespace-aware parser) reads the text; on top of it:
 * - a DOCTYPE is refused outright, so no internal subset, no entity declaration, no external entity can exist
 *   (billion laughs and XXE both need one); saxes itself refuses any entity reference it does not know;
 * - the document's size, element depth, element count and text per element are bounded (named limits below);
 * - the root element's namespace must be the one the caller expects.
 * Every refusal is an XmlRefusedError naming what was wrong; nothing is returned half-read.
 */
import { SaxesParser, type SaxesTagNS } from 'saxes';
import { Iso20022MessageInvalidError } from '../../../domain/errors';

export interface XmlLimits {
  readonly bytesMax: number;
  readonly depthMax: number;
  readonly elementsMax: number;
  readonly textLengthMax: number;
}

/** Bank messages of one transaction are a few kilobytes; these bounds leave ample room and refuse abuse early. */
export const bankMessageLimits: XmlLimits = { bytesMax: 256 * 1024, depthMax: 24, elementsMax: 4_000, textLengthMax: 4_096 };

export interface XmlElement {
  readonly namespace: string;
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  text: string;
}

/**
 * Parses `xml` into an element tree, refusing DOCTYPEs, oversized or over-deep input and a root outside
 * `namespaces` (when given). `what` names the message in errors ("pacs.002 from the bank").
 */
export function parseXml(xml: string, what: string, namespaces?: readonly string[], limits: XmlLimits = bankMessageLimits): XmlElement {
  const bytes = Buffer.byteLength(xml, 'utf8');
  if (bytes > limits.bytesMax) throw new Iso20022MessageInvalidError(what, `is ${bytes} bytes, more than the ${limits.bytesMax} allowed`);
  // Refused before parsing: a DOCTYPE is where entity declarations live, and no ISO 20022 message has one.
  if (/<!DOCTYPE/i.test(xml) || /<!ENTITY/i.test(xml)) throw new Iso20022MessageInvalidError(what, 'carries a DOCTYPE or entity declaration, which bank messages never do');
  const parser = new SaxesParser({ xmlns: true, position: false });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let elements = 0;
  let failure: Iso20022MessageInvalidError | undefined;
  const fail = (reason: string) => {
    failure ??= new Iso20022MessageInvalidError(what, reason);
    throw failure;
  };
  parser.on('doctype', () => fail('carries a DOCTYPE, which bank messages never do'));
  parser.on('opentag', (tag) => {
    const element = tag as SaxesTagNS;
    if (++elements > limits.elementsMax) fail(`has more than ${limits.elementsMax} elements`);
    if (stack.length >= limits.depthMax) fail(`nests elements deeper than ${limits.depthMax}`);
    const attributes: Record<string, string> = {};
    for (const attribute of Object.values(element.attributes)) {
      if (attribute.prefix === 'xmlns' || attribute.name === 'xmlns') continue;
      attributes[attribute.local] = attribute.value;
    }
    const node: XmlElement = { namespace: element.uri, name: element.local, attributes, children: [], text: '' };
    if (stack.length === 0) {
      if (root) fail('has more than one root element');
      root = node;
    } else stack[stack.length - 1].children.push(node);
    stack.push(node);
  });
  parser.on('text', (text) => {
    const current = stack[stack.length - 1];
    if (!current) return;
    if (current.text.length + text.length > limits.textLengthMax) fail(`has an element text longer than ${limits.textLengthMax} characters`);
    current.text += text;
  });
  parser.on('closetag', () => {
    const closed = stack.pop();
    if (closed) closed.text = closed.text.trim();
  });
  parser.on('error', (error) => fail(`is not well-formed XML: ${error.message.split('\n')[0]}`));
  try {
    parser.write(xml).close();
  } catch (error) {
    if (failure) throw failure;
    throw new Iso20022MessageInvalidError(what, `is not well-formed XML: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
  if (failure) throw failure;
  if (!root) throw new Iso20022MessageInvalidError(what, 'has no root element');
  if (namespaces && !namespaces.includes(root.namespace)) {
    throw new Iso20022MessageInvalidError(what, `root element is in namespace "${root.namespace.slice(0, 80)}", expected ${namespaces.join(' or ')}`);
  }
  return root;
}

/** The first child element called `name`, or undefined. */
export function child(element: XmlElement | undefined, name: string): XmlElement | undefined {
  return element?.children.find((candidate) => candidate.name === name);
}

/** The element at a path of child names (`'GrpHdr/MsgId'`), or undefined. */
export function at(element: XmlElement | undefined, path: string): XmlElement | undefined {
  let current = element;
  for (const name of path.split('/')) current = child(current, name);
  return current;
}

/** The text at a path, or undefined when the element is absent. */
export function textAt(element: XmlElement | undefined, path: string): string | undefined {
  return at(element, path)?.text;
}

/** The text at a path; a message without it is refused. */
export function requiredText(element: XmlElement, path: string, what: string): string {
  const value = textAt(element, path);
  if (value === undefined || value === '') throw new Iso20022MessageInvalidError(what, `has no ${path}`);
  return value;
}
