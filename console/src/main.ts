/**
 * The operations console: sign in (an API key locally, the Cognito hosted sign-in on AWS: sign-in.ts), then the live feed, settlements, the parked queue and
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
import { completeCognitoSignIn, loadSignInConfig, signOutUrl, startCognitoSignIn, type SignInConfig } from './sign-in';

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

function SignIn(props: { config: SignInConfig; onSignedIn: () => void; error?: string }) {
  const [error, setError] = useState<string | undefined>(props.error);
  const { config } = props;
  if (config.signIn === 'cognito') {
    return html`<main class="sign-in">
      <h1>Settlement Engine</h1>
      <p>Sign in with your console account (multi-factor authentication required).</p>
      <button type="button" autofocus onClick=${() => void startCognitoSignIn(config).catch((caught: unknown) => setError(String(caught)))}>Sign in</button>
      ${error && html`<p role="alert" class="error">${error}</p>`}
    </main>`;
  }
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
  const [config, setConfig] = useState<SignInConfig>();
  const [signInError, setSignInError] = useState<string>();
  const route = useHash();
  useEffect(() => {
    (async () => {
      const loaded = await loadSignInConfig();
      if (loaded.signIn === 'cognito') {
        try {
          const idToken = await completeCognitoSignIn(loaded);
          if (idToken) {
            session.signIn(idToken, 'cognito');
            setSignedIn(true);
          }
        } catch (caught) {
          setSignInError(String(caught));
        }
      }
      setConfig(loaded);
    })().catch((caught: unknown) => setSignInError(String(caught)));
  }, []);
  const signOut = () => {
    const kind = session.kind;
    session.signOut();
    setSignedIn(false);
    if (kind === 'cognito' && config?.signIn === 'cognito') location.assign(signOutUrl(config));
  };
  if (!signedIn) return config ? html`<${SignIn} config=${config} error=${signInError} onSignedIn=${() => setSignedIn(true)} />` : html`<p class="loading">Loading the console…</p>`;
  const current = route.split('/')[0];
  return html`<div class="shell">
    <header>
      <strong>Settlement Engine</strong>
      <nav aria-label="Console">
        ${views.map(([id, label]) => html`<a href=${`#/${id}`} aria-current=${current === id ? 'page' : undefined}>${label}</a>`)}
      </nav>
      <button type="button" class="quiet" onClick=${signOut}>Sign out</button>
    </header>
    <main><${Page} route=${route} /></main>
  </div>`;
}

const root = document.getElementById('app')!;
// The static "Loading…" placeholder goes; the app renders into an empty element.
root.textContent = '';
render(html`<${App} />`, root);
