import { html } from '../html';
import { Problem, useApi } from './common';

export function WindowsPage() {
  const windows = useApi<{ items: any[] }>('/api/v1/windows');
  return html`<section>
    <h1>Settlement windows</h1>
    <${Problem} error=${windows.error} />
    <table>
      <thead><tr><th>Currency</th><th>Time zone</th><th>Days</th><th>Opens</th><th>Cut-off</th><th>Holidays</th><th>Emergency close</th></tr></thead>
      <tbody>${(windows.data?.items ?? []).map(
        (stored) => html`<tr key=${stored.window.currency}>
          <td>${stored.window.currency}</td>
          <td>${stored.window.timeZone}</td>
          <td>${(stored.window.days ?? []).join(' ')}</td>
          <td>${stored.window.opensAt}</td>
          <td>${stored.window.cutoffAt}</td>
          <td>${(stored.window.holidays ?? []).length}</td>
          <td>${stored.window.emergencyClose ? `closed: ${stored.window.emergencyClose.reason ?? ''}` : 'open'}</td>
        </tr>`,
      )}</tbody>
    </table>
  </section>`;
}
