/**
 * Where dropped statement files come from and where refused ones go: an S3 bucket and a queue on AWS
 * (adapters/s3), a watched folder locally (local/statement-folder.ts).
 */

/** A file the inbox refused, with the reason an operator needs to fix it. */
export interface StatementFileRejection {
  /** The file as it was named in the inbox (relative to its incoming area). */
  readonly file: string;
  /** The stable error code (`STATEMENT.INVALID`, `VALIDATION.INVALID_FIELD`, …). */
  readonly code: string;
  readonly reason: string;
}

export interface StatementFileInbox {
  /**
   * The file's text. Checks its size before reading the body and stops reading past `bytesMax`
   * (StatementFileTooLargeError); refuses bytes that are not UTF-8 (ValidationError).
   */
  read(file: string, bytesMax: number): Promise<string>;
  /** Sets a refused file aside with its reason (a dead-letter queue, a `rejected/` folder). */
  reject(rejection: StatementFileRejection): Promise<void>;
}
