import { useState } from 'preact/hooks';
import { api, time } from '../api';
import { html } from '../html';
import { Problem, Status, describe, useApi } from './common';

export function ParkedPage() {
  const [reload, setReload] = useState(0);
  const [message, setMessage] = useState<string>();
  const parked = useApi<{ items: any[] }>('/api/v1/settlements/parked', reload);
  const proposals = useApi<{ items: any[] }>('/api/v1/proposals', reload);
  const act = async (label: string, method: string, path: string, body: unknown) => {
    try {
      const result = await api(method, path, body);
      setMessage(result?.proposal ? `${label}: proposal ${result.proposal.proposalId} waits for a second operator` : `${label}: done (${result?.status ?? 'ok'})`);
    } catch (error) {
      setMessage(`${label} refused: ${describe(error)}`);
    }
    setReload((value) => value + 1);
  };
  return html`<section>
    <h1>Parked settlements</h1>
    ${message && html`<p role="status" class="notice">${message}</p>`}
    <${Problem} error=${parked.error} />
    <table>
      <thead><tr><th>Settlement</th><th>Status</th><th>Reason</th><th class="amount">Amount</th><th>Parked</th><th>Actions</th></tr></thead>
      <tbody>
        ${(parked.data?.items ?? []).map(
          (item) => html`<tr key=${item.settlementId} data-parked-id=${item.settlementId}>
            <td><a href=${`#/settlement/${encodeURIComponent(item.settlementId)}`}>${item.settlementId}</a></td>
            <td><${Status} status=${item.status} /></td>
            <td>${item.reasonCode ?? ''}</td>
            <td class="amount">${item.amount} ${item.currency}</td>
            <td>${item.parkedAt ? time(item.parkedAt) : ''}</td>
            <td class="actions">
              <button type="button" onClick=${() => act('Requeue', 'POST', `/api/v1/settlements/${encodeURIComponent(item.settlementId)}/requeue`, { reason: 'requeued from the console' })}>Requeue</button>
              <button type="button" class="danger" onClick=${() => {
                const reason = prompt('Why is this settlement abandoned?');
                if (reason) void act('Abandon', 'POST', `/api/v1/settlements/${encodeURIComponent(item.settlementId)}/abandon`, { reason });
              }}>Abandon</button>
            </td>
          </tr>`,
        )}
      </tbody>
    </table>
    ${parked.data && parked.data.items.length === 0 && html`<p class="muted">Nothing is parked.</p>`}
    <h2>Proposals (maker-checker)</h2>
    <${Problem} error=${proposals.error} />
    <table>
      <thead><tr><th>Proposal</th><th>Status</th><th>Proposed by</th><th>Expires</th><th>Decided by</th><th>Actions</th></tr></thead>
      <tbody>
        ${(proposals.data?.items ?? []).map(
          (proposal) => html`<tr key=${proposal.proposalId} data-proposal-id=${proposal.proposalId} data-proposal-target=${proposal.target}>
            <td>${proposal.summary}</td>
            <td><${Status} status=${proposal.status} /></td>
            <td>${proposal.proposedBy}</td>
            <td>${time(proposal.expiresAt)}</td>
            <td>${proposal.decidedBy ?? ''}</td>
            <td class="actions">
              ${proposal.status === 'PENDING' &&
              html`<button type="button" onClick=${() => act('Approve', 'POST', `/api/v1/proposals/${proposal.proposalId}/approve`, {})}>Approve</button>
                <button type="button" class="danger" onClick=${() => act('Reject', 'POST', `/api/v1/proposals/${proposal.proposalId}/reject`, {})}>Reject</button>`}
            </td>
          </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}
