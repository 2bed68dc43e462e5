/**
 * How a bank message is shown to operators: its ISO 20022 type, direction, time, identifier and the XML itself.
 */
import type { BankMessage } from '../ports/bank';

export interface BankMessageView {
  readonly type: string;
  readonly direction: string;
  readonly at: string;
  readonly messageId: string;
  readonly message: string;
}

export function bankMessageView(message: BankMessage): BankMessageView {
  return { type: message.type, direction: message.direction, at: message.at, messageId: message.messageId, message: message.xml };
}
