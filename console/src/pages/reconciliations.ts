import { useState } from 'preact/hooks';
import { api, time } from '../api';
import { html } from '../html';
import { Problem, Status, describe, useApi } from './common';

export function ReconciliationsPage() {
  const nostro = useApi<{ items: any[] }>('/api/v1/accounts/nostro?limit=200');
  const [accountId, setAccountId] = useState<string>();
  const [reportId, setReportId] = useState<string>();
  const [reload, setReload] = useState(0);
  const [message, setMessage] = useState<string>();
  const reports = useApi<{ items: any[] }>(accountId ? `/api/v1/reconciliations?accountId=${encodeURIComponent(accountId)}` : undefined, reload);
  const report = useApi<any>(reportId ? `/api/v1/reconciliations/${reportId}` : undefined);
  const run = async () => {
    if (!accountId) return;
    const to = new Date();
    const from = new Date(to.getTime() - 24 * 3600_000);
    try {
      const created = await api('POST', '/api/v1/reconciliations', { accountId, from: from.toISOString(), to: to.toISOString() });
      setMessage(`Report ${created.reportId}: ${created.status}`);
      setReportId(created.reportId);
    } catch (error) {
      setMessage(`Reconciliation refused: ${describe(error)}`);
    }
    setReload((value) => value + 1);
  };
  return html`<section>
    <h1>Reconciliation</h1>
    <${Problem} error=${nostro.error ?? reports.error} />
    <p class="filters">
      <label>Nostro account
        <select onChange=${(event: Event) => (setAccountId((event.target as HTMLSelectElement).value || undefined), setReportId(undefined))}>
          <option value="">choose…</option>
          ${(nostro.data?.items ?? []).map((account) => html`<option value=${account.accountId}>${account.accountId}</option>`)}
        </select>
      </label>
      <button type="button" disabled=${!accountId} onClick=${run}>Reconcile the last 24 hours</button>
    </p>
    ${message && html`<p role="status" class="notice">${message}</p>`}
    ${reports.data &&
    html`<table>
      <thead><tr><th>Report</th><th>Status</th><th>Period</th><th>Matched</th><th>Discrepancies</th></tr></thead>
      <tbody>${reports.data.items.map(
        (item) => html`<tr key=${item.reportId}>
          <td><button type="button" class="link" onClick=${() => setReportId(item.reportId)}>${item.reportId.slice(0, 8)}</button></td>
          <td><${Status} status=${item.status} /></td>
          <td>${time(item.periodFrom)} → ${time(item.periodTo)}</td>
          <td>${item.summary?.matched ?? ''}</td>
          <td>${item.summary ? item.summary.discrepancies ?? JSON.stringify(item.summary.byKind ?? {}) : ''}</td>
        </tr>`,
      )}</tbody>
    </table>`}
    ${report.data &&
    html`<article class="detail">
      <h2>Report ${report.data.reportId}</h2>
      <pre class="summary">${JSON.stringify(report.data.summary ?? report.data.error ?? {}, null, 2)}</pre>
      <table>
        <thead><tr><th>#</th><th>Kind</th><th>Reference</th><th class="amount">Engine</th><th class="amount">Bank</th></tr></thead>
        <tbody>${(report.data.discrepancies?.items ?? []).map(
          (item: any) => html`<tr key=${item.seq}><td>${item.seq}</td><td>${item.kind}</td><td>${item.settlementId ?? item.reference ?? ''}</td><td class="amount">${item.engineAmount ?? item.expected ?? ''}</td><td class="amount">${item.bankAmount ?? item.actual ?? ''}</td></tr>`,
        )}</tbody>
      </table>
    </article>`}
  </section>`;
}
