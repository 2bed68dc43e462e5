import { useState } from 'preact/hooks';
import type uPlot from 'uplot';
import { api, time } from '../api';
import { Chart } from '../chart';
import { html } from '../html';
import { Problem, Status, describe, useApi } from './common';

export function AccountsPage(props: { accountId?: string }) {
  const vostro = useApi<{ items: any[] }>('/api/v1/accounts/vostro?limit=200');
  const nostro = useApi<{ items: any[] }>('/api/v1/accounts/nostro?limit=200');
  const accounts = [...(vostro.data?.items ?? []), ...(nostro.data?.items ?? [])];
  return html`<section>
    <h1>Accounts</h1>
    <${Problem} error=${vostro.error ?? nostro.error} />
    <table>
      <thead><tr><th>Account</th><th>Status</th><th class="amount">Balance</th><th class="amount">Locked</th><th class="amount">Available</th><th class="amount">Floor</th></tr></thead>
      <tbody>
        ${accounts.map(
          (account) => html`<tr key=${account.accountId} aria-selected=${account.accountId === props.accountId}>
            <td><a href=${`#/accounts/${encodeURIComponent(account.accountId)}`}>${account.accountId}</a></td>
            <td><${Status} status=${account.status} /></td>
            <td class="amount">${account.balance}</td>
            <td class="amount">${account.locked}</td>
            <td class="amount">${account.available}</td>
            <td class="amount">${account.floor}</td>
          </tr>`,
        )}
      </tbody>
    </table>
    ${props.accountId && html`<${AccountDetail} accountId=${props.accountId} />`}
  </section>`;
}

function AccountDetail(props: { accountId: string }) {
  const [reload, setReload] = useState(0);
  const [message, setMessage] = useState<string>();
  const path = `/api/v1/accounts/${encodeURIComponent(props.accountId)}`;
  const account = useApi<any>(path, reload);
  const ledger = useApi<{ items: any[]; balanceAtStart: string; from: string; to: string }>(`${path}/ledger`, reload);
  const act = async (label: string, method: string, actionPath: string, body: unknown) => {
    try {
      const result = await api(method, actionPath, body);
      setMessage(result?.proposal ? `${label}: proposal ${result.proposal.proposalId} waits for a second operator` : `${label}: done`);
    } catch (error) {
      setMessage(`${label} refused: ${describe(error)}`);
    }
    setReload((value) => value + 1);
  };
  const move = (direction: 'fund-in' | 'fund-out') => (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    // The amount goes to the API exactly as typed: a decimal string, never a number.
    void act(direction, 'POST', `${path}/${direction}`, { movementId: `console-${Date.now().toString(36)}`, amount: String(form.get('amount')).trim(), reference: String(form.get('reference') || 'console') });
  };
  const data = account.data;
  return html`<article class="detail">
    <h2>${props.accountId}</h2>
    <${Problem} error=${account.error} />
    ${message && html`<p role="status" class="notice">${message}</p>`}
    ${data &&
    html`<dl class="facts">
      <dt>Status</dt><dd><${Status} status=${data.status} /></dd>
      <dt>Balance</dt><dd class="amount">${data.balance} ${data.currency}</dd>
      <dt>Locked</dt><dd class="amount">${data.locked} ${data.currency}</dd>
      <dt>Available</dt><dd class="amount">${data.available} ${data.currency}</dd>
      <dt>Updated</dt><dd>${time(data.updatedAt)}</dd>
    </dl>`}
    ${ledger.data && html`<${BalanceChart} ledger=${ledger.data} currency=${data?.currency ?? ''} />`}
    ${data?.accountType === 'VOSTRO' &&
    html`<div class="forms">
      <form onSubmit=${move('fund-in')} aria-label="Fund in">
        <label>Fund in <input name="amount" inputmode="decimal" pattern="[0-9]+(\\.[0-9]+)?" required placeholder="1000.00" /></label>
        <input name="reference" aria-label="Reference" placeholder="reference" />
        <button type="submit">Fund in</button>
      </form>
      <form onSubmit=${move('fund-out')} aria-label="Fund out">
        <label>Fund out <input name="amount" inputmode="decimal" pattern="[0-9]+(\\.[0-9]+)?" required placeholder="1000.00" /></label>
        <input name="reference" aria-label="Reference" placeholder="reference" />
        <button type="submit">Fund out</button>
      </form>
    </div>`}
    ${data &&
    html`<p class="actions">
      ${data.status === 'ACTIVE' && html`<button type="button" class="danger" onClick=${() => act('Freeze', 'PUT', `${path}/status`, { status: 'FROZEN' })}>Freeze</button>`}
      ${data.status === 'FROZEN' && html`<button type="button" onClick=${() => act('Unfreeze', 'PUT', `${path}/status`, { status: 'ACTIVE' })}>Unfreeze</button>`}
    </p>`}
  </article>`;
}

/** The balance after each posting over the last day, as a stepped line (positions only; the values are labelled as strings). */
function BalanceChart(props: { ledger: { items: any[]; balanceAtStart: string; from: string; to: string }; currency: string }) {
  const seconds = (iso: string) => Date.parse(iso) / 1000;
  const labels = new Map<number, string>();
  const points: [number, number][] = [[seconds(props.ledger.from), Number(props.ledger.balanceAtStart)]];
  labels.set(points[0][1], props.ledger.balanceAtStart);
  for (const entry of props.ledger.items) {
    points.push([seconds(entry.postedAt), Number(entry.balanceAfter)]);
    labels.set(Number(entry.balanceAfter), entry.balanceAfter);
  }
  const last = points[points.length - 1];
  points.push([seconds(props.ledger.to), last[1]]);
  const data: uPlot.AlignedData = [points.map((point) => point[0]), points.map((point) => point[1])];
  return html`<${Chart}
    title=${`Balance over the last day (${props.currency})`}
    data=${data}
    stepped=${true}
    series=${[{ label: 'balance', stroke: '#2563eb' }]}
    formatY=${(value: number) => labels.get(value) ?? value.toLocaleString('en', { maximumFractionDigits: 2 })}
  />`;
}
