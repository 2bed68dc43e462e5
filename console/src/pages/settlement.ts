import { duration, time } from '../api';
import { html } from '../html';
import { Problem, Status, useApi } from './common';

interface Checkpoint {
  seq: number;
  status: string;
  stage: string;
  at: string;
  reasonCode?: string;
  detail?: string;
}

export function SettlementPage(props: { settlementId: string }) {
  const path = `/api/v1/settlements/${encodeURIComponent(props.settlementId)}`;
  const { data: settlement, error } = useApi<any>(path);
  const { data: ledger } = useApi<{ items: any[] }>(`${path}/ledger`);
  if (error) return html`<${Problem} error=${error} />`;
  if (!settlement) return html`<p class="muted">Loading ${props.settlementId}…</p>`;
  const checkpoints: Checkpoint[] = settlement.checkpoints;
  return html`<section>
    <h1>Settlement ${settlement.settlementId}</h1>
    <dl class="facts">
      <dt>Status</dt><dd><${Status} status=${settlement.status} />${settlement.parked ? ' (parked)' : ''}</dd>
      <dt>Amount</dt><dd class="amount">${settlement.amount} ${settlement.currency}</dd>
      <dt>Payer → payee</dt><dd>${settlement.payerBic} → ${settlement.payeeBic}</dd>
      <dt>Rail · kind</dt><dd>${settlement.rail} · ${settlement.kind}</dd>
      <dt>Value date</dt><dd>${settlement.valueDate}</dd>
      <dt>Reference</dt><dd>${settlement.reference}</dd>
      <dt>Submitted by</dt><dd>${settlement.submittedBy ?? '—'}</dd>
      <dt>Attempt</dt><dd>${settlement.attempt}</dd>
      ${settlement.reasonCode && html`<dt>Reason</dt><dd>${settlement.reasonCode}: ${settlement.reason ?? ''}</dd>`}
    </dl>
    <h2>Timeline</h2>
    <ol class="timeline" aria-label="Checkpoint timeline">
      ${checkpoints.map(
        (checkpoint, index) => html`<li key=${checkpoint.seq}>
          <${Status} status=${checkpoint.status} />
          <span>${checkpoint.stage}</span>
          <time datetime=${checkpoint.at}>${time(checkpoint.at)}</time>
          <span class="muted">${index === 0 ? 'submitted' : `+${duration(checkpoints[index - 1].at, checkpoint.at)}`}</span>
          ${checkpoint.reasonCode && html`<span class="error">${checkpoint.reasonCode}</span>`}
          ${checkpoint.detail && html`<span class="muted">${checkpoint.detail}</span>`}
        </li>`,
      )}
    </ol>
    ${checkpoints.length > 1 && html`<p class="muted">Total ${duration(checkpoints[0].at, checkpoints[checkpoints.length - 1].at)} from submission to ${checkpoints[checkpoints.length - 1].status}.</p>`}
    <h2>Fund lock</h2>
    ${settlement.lock
      ? html`<dl class="facts">
          <dt>State</dt><dd><${Status} status=${settlement.lock.state} /></dd>
          <dt>Amount</dt><dd class="amount">${settlement.lock.amount} ${settlement.currency}</dd>
          <dt>Vostro leg</dt><dd>${settlement.lock.vostroAccountId}</dd>
          <dt>Nostro leg</dt><dd>${settlement.lock.nostroAccountId}</dd>
          <dt>Created · expires</dt><dd>${time(settlement.lock.createdAt)} · ${time(settlement.lock.expiresAt)}</dd>
          ${settlement.lock.endedAt && html`<dt>Ended</dt><dd>${time(settlement.lock.endedAt)}</dd>`}
        </dl>`
      : html`<p class="muted">No lock (the settlement did not reach LockFunds).</p>`}
    <h2>Ledger entries</h2>
    ${ledger && ledger.items.length > 0
      ? html`<table><thead><tr><th>Account</th><th>Posted</th><th>Value date</th><th class="amount">Amount</th></tr></thead>
          <tbody>${ledger.items.map((entry) => html`<tr key=${entry.entryKey}><td>${entry.accountId}</td><td>${time(entry.postedAt)}</td><td>${entry.valueDate}</td><td class="amount">${entry.amount} ${entry.currency}</td></tr>`)}</tbody></table>`
      : html`<p class="muted">No postings (only a completed settlement posts).</p>`}
    <h2>Bank messages</h2>
    <p class="muted">${settlement.bankReference ? `Bank reference ${settlement.bankReference}.` : 'No transfer reference yet.'} Message documents appear here once the rails' message store is served.</p>
  </section>`;
}
