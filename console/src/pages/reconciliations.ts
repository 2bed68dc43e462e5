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
          <td>${item.summary?.matched?.count ?? ''}</td>
          <td>${item.summary?.discrepancyCount ?? ''}</td>
        </tr>`,
      )}</tbody>
    </table>`}
    ${report.data &&
    html`<article class="detail">
      <h2>Report ${report.data.reportId}</h2>
      ${report.data.error && html`<p class="error">${report.data.error.code}: ${report.data.error.message}</p>`}
      ${report.data.summary && html`<${Summary} summary=${report.data.summary} />`}
      <h3>Discrepancies</h3>
      <table>
        <thead><tr><th>#</th><th>Kind</th><th>Reference</th><th class="amount">Ledger</th><th class="amount">Bank</th><th>Detail</th></tr></thead>
        <tbody>${(report.data.discrepancies?.items ?? []).map(
          (item: any) => html`<tr key=${item.seq}><td>${item.seq}</td><td>${item.kind}</td><td>${item.reference}</td><td class="amount">${item.ledgerAmount ?? item.amount}</td><td class="amount">${item.bankAmount ?? ''}</td><td>${item.detail}</td></tr>`,
        )}</tbody>
      </table>
      ${(report.data.discrepancies?.items ?? []).length === 0 && html`<p class="muted">None: the ledger and the bank's statement agree.</p>`}
    </article>`}
  </section>`;
}

/** A report's totals: matched, each discrepancy kind, and the opening and closing balances on both sides. */
function Summary(props: { summary: any }) {
  const summary = props.summary;
  const kinds = Object.entries(summary.discrepancies ?? {}) as [string, { count: number; total: string }][];
  const balances = summary.balances ?? {};
  return html`<div class="forms">
    <table class="compact">
      <thead><tr><th>Entries</th><th class="amount">Count</th><th class="amount">Total (${summary.currency})</th></tr></thead>
      <tbody>
        <tr><td>matched</td><td class="amount">${summary.matched?.count}</td><td class="amount">${summary.matched?.total}</td></tr>
        ${kinds.map(([kind, totals]) => html`<tr key=${kind}><td>${kind}</td><td class="amount">${totals.count}</td><td class="amount">${totals.total}</td></tr>`)}
      </tbody>
    </table>
    <table class="compact">
      <thead><tr><th>Balance</th><th class="amount">Ledger</th><th class="amount">Bank</th></tr></thead>
      <tbody>
        <tr><td>opening</td><td class="amount">${balances.ledgerOpening}</td><td class="amount">${balances.bankOpening}</td></tr>
        <tr><td>closing</td><td class="amount">${balances.ledgerClosing}</td><td class="amount">${balances.bankClosing}</td></tr>
        <tr><td>unexplained difference</td><td class="amount" colspan="2">${balances.unexplainedDifference}</td></tr>
      </tbody>
    </table>
  </div>`;
}
