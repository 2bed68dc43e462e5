import { useEffect, useState } from 'preact/hooks';
import { readEventStream, time, type SettlementEvent } from '../api';
import { html } from '../html';
import { Status, describe } from './common';

/** Rows kept in the feed; older ones scroll away. */
const feedRowsMax = 200;
const statuses = ['', 'PENDING', 'VALIDATED', 'LOCKED', 'TRANSFER_INITIATED', 'CONFIRMED', 'COMPLETED', 'ROLLING_BACK', 'ROLLED_BACK', 'FAILED'];

export function FeedPage() {
  const [events, setEvents] = useState<SettlementEvent[]>([]);
  const [filters, setFilters] = useState({ bank: '', currency: '', status: '' });
  const [state, setState] = useState('connecting');
  useEffect(() => {
    const stop = new AbortController();
    const query = new URLSearchParams();
    if (filters.bank) query.set('bank', filters.bank);
    if (filters.currency) query.set('currency', filters.currency);
    setEvents([]);
    setState('connecting');
    (async () => {
      // Reconnects after a dropped stream, with a pause, until the page is left; from the last event received.
      const resume: { lastEventId?: string } = {};
      for (let attempt = 0; !stop.signal.aborted && attempt < 1000; attempt++) {
        try {
          setState('live');
          await readEventStream(query, (event) => setEvents((current) => [event, ...current].slice(0, feedRowsMax)), stop.signal, resume);
        } catch (error) {
          if (stop.signal.aborted) return;
          setState(`disconnected (${describe(error)}); reconnecting`);
        }
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
    })();
    return () => stop.abort();
  }, [filters.bank, filters.currency]);
  const apply = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    setFilters({ bank: String(form.get('bank') ?? '').trim().toUpperCase(), currency: String(form.get('currency') ?? '').trim().toUpperCase(), status: String(form.get('status') ?? '') });
  };
  const shown = filters.status ? events.filter((event) => event.status === filters.status) : events;
  return html`<section>
    <h1>Live settlement feed</h1>
    <form class="filters" onSubmit=${apply}>
      <label>Bank (BIC) <input name="bank" value=${filters.bank} maxlength="11" /></label>
      <label>Currency <input name="currency" value=${filters.currency} maxlength="3" size="4" /></label>
      <label>Status <select name="status">${statuses.map((status) => html`<option value=${status} selected=${status === filters.status}>${status || 'any'}</option>`)}</select></label>
      <button type="submit">Apply</button>
    </form>
    <p class="muted" aria-live="polite" data-feed-state=${state}>Stream: ${state} · ${shown.length} events</p>
    <table class="feed">
      <thead><tr><th>At</th><th>Settlement</th><th>Status</th><th>Stage</th><th>Payer → payee</th><th class="amount">Amount</th></tr></thead>
      <tbody>
        ${shown.map(
          (event) => html`<tr key=${`${event.settlementId}#${event.seq}`} data-settlement-id=${event.settlementId}>
            <td>${time(event.at)}</td>
            <td><a href=${`#/settlement/${encodeURIComponent(event.settlementId)}`}>${event.settlementId}</a></td>
            <td><${Status} status=${event.status} /></td>
            <td>${event.stage}</td>
            <td>${event.payerBic} → ${event.payeeBic}</td>
            <td class="amount">${event.amount} ${event.currency}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}
