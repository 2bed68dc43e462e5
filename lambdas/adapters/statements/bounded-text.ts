/**
 * Reads a statement file's bytes as UTF-8 text, never more than a limit: the file inboxes (S3, the local folder)
 * stop reading at the first chunk past it, so a hostile upload costs at most the limit in memory.
 */
import { StatementInvalidError } from '../../domain/operations-errors';

/** Chunks read at most before giving up (a body of millions of tiny chunks is as hostile as a large one). */
export const statementFileChunksMax = 100_000;

export async function readBoundedText(chunks: AsyncIterable<Uint8Array | string>, bytesMax: number): Promise<string> {
  const parts: Buffer[] = [];
  let bytes = 0;
  let chunkCount = 0;
  for await (const chunk of chunks) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    bytes += buffer.byteLength;
    if (bytes > bytesMax) throw tooLarge(bytesMax);
    if (++chunkCount > statementFileChunksMax) throw new StatementInvalidError('statement', 'file', `arrives in more than ${statementFileChunksMax} chunks`);
    parts.push(buffer);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(parts, bytes));
  } catch (error) {
    throw new StatementInvalidError('statement', 'file', 'is not UTF-8 text', { cause: error });
  }
}

export function tooLarge(bytesMax: number, bytes?: number): StatementInvalidError {
  return new StatementInvalidError('statement', 'file', `is ${bytes === undefined ? 'larger than' : `${bytes} bytes, more than`} the ${bytesMax} bytes allowed`);
}
