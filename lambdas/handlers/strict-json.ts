/**
 * JSON bodies parsed strictly. JSON.parse keeps the last of two equal keys, while another reader (a gateway, an
 * audit tap, a log viewer) may keep the first: `{"amount":"10.00","amount":"9999.00"}` would then settle a different
 * amount than the one someone else saw. So a key appearing twice in one object is refused, named, and so is
 * nesting deeper than the limit. The check walks @humanwhocodes/momoa's token stream (iteratively: no recursion on
 * untrusted input) after JSON.parse has proven the text well-formed.
 */
import { tokenize } from '@humanwhocodes/momoa';
import { ValidationError } from '../domain/errors';

interface Frame {
  readonly kind: 'object' | 'array';
  /** Where this container sits, for error messages (`emergencyClose`, `days[2]`); '' at the root. */
  readonly path: string;
  readonly keys: Set<string>;
  /** Last key read in this object (the name of the value being read), or the next array index. */
  member: string;
  index: number;
}

/** Parses `text` as JSON; throws ValidationError('body' or the duplicated key's path). */
export function parseStrictJson(text: string, depthMax: number): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ValidationError('body', 'is not valid JSON');
  }
  const stack: Frame[] = [];
  let previous = '';
  for (const token of tokenize(text)) {
    const frame = stack[stack.length - 1];
    switch (token.type) {
      case 'LBrace':
      case 'LBracket': {
        if (stack.length >= depthMax) throw new ValidationError('body', `nests deeper than ${depthMax} levels`);
        stack.push({ kind: token.type === 'LBrace' ? 'object' : 'array', path: frame === undefined ? '' : memberPath(frame), keys: new Set(), member: '', index: 0 });
        break;
      }
      case 'RBrace':
      case 'RBracket':
        stack.pop();
        break;
      case 'Comma':
        if (frame?.kind === 'array') frame.index++;
        break;
      case 'String':
        // In an object, a string right after `{` or `,` is a key.
        if (frame?.kind === 'object' && (previous === 'LBrace' || previous === 'Comma')) {
          const key = JSON.parse(text.slice(token.loc.start.offset, token.loc.end.offset)) as string;
          frame.member = key;
          if (frame.keys.has(key)) throw new ValidationError(memberPath(frame), 'appears twice in the JSON body (readers disagree on which one counts)');
          frame.keys.add(key);
        }
        break;
      default:
        break;
    }
    previous = token.type;
  }
  return parsed;
}

function memberPath(frame: Frame): string {
  if (frame.kind === 'array') return `${frame.path}[${frame.index}]`;
  return frame.path === '' ? frame.member : `${frame.path}.${frame.member}`;
}
