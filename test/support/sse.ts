/**
 * Reads a server-sent-events response the way the console does: frames end with a blank line, and a `settlement`
 * frame's `data:` line is one settlement event as JSON. Other frames (comments, `error`) are skipped.
 */
export async function readSettlementFrames<T>(response: Response, until: (events: readonly T[]) => boolean): Promise<T[]> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: T[] = [];
  let buffer = '';
  while (!until(events)) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    for (let boundary = buffer.indexOf('\n\n'); boundary >= 0; boundary = buffer.indexOf('\n\n')) {
      const frame = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary + 2);
      const data = frame.split('\n').find((line) => line.startsWith('data: '));
      if (frame.includes('event: settlement') && data) events.push(JSON.parse(data.slice(6)) as T);
    }
  }
  return events;
}
