/**
 * The console talks to the engine's API like any client: its credential in the Authorization header (an API key as
 * `Bearer <key>` locally; on AWS the Cognito ID token, which API Gateway's authorizer reads), JSON in and out.
 * Amounts stay the decimal strings the API returns; nothing here parses money into a number.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const keyStorage = 'settlement-console-key';
const kindStorage = 'settlement-console-credential';

export const session = {
  get key(): string | null {
    return sessionStorage.getItem(keyStorage);
  },
  /** `cognito` when signed in through the user pool (the deployed console), else an API key. */
  get kind(): 'api-key' | 'cognito' {
    return sessionStorage.getItem(kindStorage) === 'cognito' ? 'cognito' : 'api-key';
  },
  signIn(key: string, kind: 'api-key' | 'cognito' = 'api-key'): void {
    sessionStorage.setItem(keyStorage, key);
    sessionStorage.setItem(kindStorage, kind);
  },
  signOut(): void {
    sessionStorage.removeItem(keyStorage);
    sessionStorage.removeItem(kindStorage);
  },
};

function authorization(): string {
  return session.kind === 'cognito' ? (session.key ?? '') : `Bearer ${session.key ?? ''}`;
}

export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: { authorization: authorization(), ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const json = text ? JSON.parse(text) : undefined;
  if (!response.ok) throw new ApiError(response.status, json?.error?.code ?? `HTTP.${response.status}`, json?.error?.message ?? response.statusText);
  return json as T;
}

export interface SettlementEvent {
  readonly settlementId: string;
  readonly seq: number;
  readonly status: string;
  readonly previousStatus: string | null;
  readonly stage: string;
  readonly at: string;
  readonly payerBic: string;
  readonly payeeBic: string;
  readonly currency: string;
  readonly amount: string;
  readonly reasonCode?: string;
  readonly submittedBy?: string;
}

/**
 * Server-sent events read with fetch (EventSource cannot send an Authorization header). Calls `onEvent` per
 * settlement event until `signal` aborts; resolves when the stream ends, rejects on an HTTP error. `resume.lastEventId`
 * is the cursor of the last event received: sent back as `Last-Event-ID`, a reconnect continues after it with no gap
 * and no repeat, as EventSource would.
 */
export async function readEventStream(query: URLSearchParams, onEvent: (event: SettlementEvent) => void, signal: AbortSignal, resume: { lastEventId?: string } = {}): Promise<void> {
  const headers: Record<string, string> = { authorization: authorization() };
  if (resume.lastEventId) headers['last-event-id'] = resume.lastEventId;
  const response = await fetch(`/api/v1/events/stream?${query}`, { headers, signal });
  if (!response.ok || !response.body) throw new ApiError(response.status, `HTTP.${response.status}`, await response.text());
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let boundary = buffer.indexOf('\n\n');
    while (boundary >= 0) {
      const frame = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary + 2);
      const data = frame
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice(6))
        .join('\n');
      const id = frame.split('\n').find((line) => line.startsWith('id: '));
      if (frame.includes('event: settlement') && data) {
        if (id) resume.lastEventId = id.slice(4);
        onEvent(JSON.parse(data) as SettlementEvent);
      }
      boundary = buffer.indexOf('\n\n');
    }
  }
}

/** Milliseconds between two ISO instants, as text ("1.25 s", "340 ms"). */
export function duration(from: string, to: string): string {
  const ms = Date.parse(to) - Date.parse(from);
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms} ms`;
}

export function time(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}
