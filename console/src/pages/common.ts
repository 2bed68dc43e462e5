import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import { html } from '../html';

/** Loads `path` (again whenever `reload` changes); the error as text when it fails. */
export function useApi<T>(path: string | undefined, reload = 0): { data?: T; error?: string } {
  const [state, setState] = useState<{ data?: T; error?: string }>({});
  useEffect(() => {
    if (path === undefined) return;
    let live = true;
    api<T>('GET', path).then(
      (data) => live && setState({ data }),
      (error: unknown) => live && setState({ error: error instanceof ApiError ? `${error.code}: ${error.message}` : String(error) }),
    );
    return () => {
      live = false;
    };
  }, [path, reload]);
  return state;
}

export function Problem(props: { error?: string }) {
  return props.error ? html`<p role="alert" class="error">${props.error}</p>` : null;
}

export function Status(props: { status: string }) {
  return html`<span class=${`status status-${props.status.toLowerCase()}`}>${props.status}</span>`;
}

export function describe(error: unknown): string {
  return error instanceof ApiError ? `${error.code}: ${error.message}` : String(error);
}
