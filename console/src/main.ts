/**
 * The operations console: sign in with an API key, then the live feed, settlements, the parked queue and
 * proposals, accounts, reconciliations, windows and the last hour's charts. Hash routes, so every view has a URL
 * and the browser's back button works; every control is a link, button or form field (keyboard operable).
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, session } from './api';
import { html } from './html';
import { FeedPage } from './pages/feed';
import { SettlementPage } from './pages/settlement';
import { ParkedPage } from './pages/parked';
import { AccountsPage } from './pages/accounts';
import { ReconciliationsPage } from './pages/reconciliations';
import { WindowsPage } from './pages/windows';
import { MetricsPage } from './pages/metrics';

const views = [
  ['feed', 'Live feed'],
  ['parked', 'Parked & proposals'],
  ['accounts', 'Accounts'],
  ['reconciliations', 'Reconciliation'],
  ['windows', 'Windows'],
  ['metrics', 'Last hour'],
] as const;

function useHash(): string {
  const [hash, setHash] = useState(location.hash.slice(2) || 'feed');
  useEffect(() => {
    const changed = () => setHash(location.hash.slice(2) || 'feed');
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return hash;
}

function SignIn(props: { onSignedIn: () => void }) {
  const [error, setError] = useState<string>();
  const submit = async (event: Event) => {
    event.preventDefault();
    const key = (new FormData(event.target as HTMLFormElement).get('key') as string).trim();
    session.signIn(key);
    try {
      await api('GET', '/api/v1/events/stats');
      props.onSignedIn();
    } catch (caught) {
      session.signOut();
      setError(caught instanceof ApiError ? `${caught.code}: ${caught.message}` : String(caught));
    }
  };
  return html`<main class="sign-in">
    <h1>Settlement Engine</h1>
    <form onSubmit=${submit}>
      <label for="api-key">API key</label>
      <input id="api-key" name="key" type="password" autocomplete="off" required autofocus />
      <button type="submit">Sign in</button>
      ${error && html`<p role="alert" class="error">${error}</p>`}
    </form>
  </main>`;
}

function Page(props: { route: string }) {
  const [view, ...rest] = props.route.split('/');
  switch (view) {
    case 'settlement':
      return html`<${SettlementPage} settlementId=${decodeURIComponent(rest.join('/'))} />`;
    case 'parked':
      return html`<${ParkedPage} />`;
    case 'accounts':
      return html`<${AccountsPage} accountId=${rest.length > 0 ? decodeURIComponent(rest.join('/')) : undefined} />`;
    case 'reconciliations':
      return html`<${ReconciliationsPage} />`;
    case 'windows':
      return html`<${WindowsPage} />`;
    case 'metrics':
      return html`<${MetricsPage} />`;
    default:
      return html`<${FeedPage} />`;
  }
}

function App() {
  const [signedIn, setSignedIn] = useState(session.key !== null);
  const route = useHash();
  if (!signedIn) return html`<${SignIn} onSignedIn=${() => setSignedIn(true)} />`;
  const current = route.split('/')[0];
  return html`<div class="shell">
    <header>
      <strong>Settlement Engine</strong>
      <nav aria-label="Console">
        ${views.map(([id, label]) => html`<a href=${`#/${id}`} aria-current=${current === id ? 'page' : undefined}>${label}</a>`)}
      </nav>
      <button type="button" class="quiet" onClick=${() => (session.signOut(), setSignedIn(false))}>Sign out</button>
    </header>
    <main><${Page} route=${route} /></main>
  </div>`;
}

const root = document.getElementById('app')!;
// The static "Loading…" placeholder goes; the app renders into an empty element.
root.textContent = '';
render(html`<${App} />`, root);
