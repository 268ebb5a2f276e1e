/** The webview's side of the channel to the extension host, and its saved state. */
import { Endpoint } from '../../src/protocol/rpc';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const api = acquireVsCodeApi();

/** Connects to the host; call `endpoint.sendReady()` once the handlers are registered. */
export function connectToHost(): Endpoint {
  const endpoint = new Endpoint((message) => api.postMessage(message), { log: (m) => console.warn(`LM Lens: ${m}`) });
  window.addEventListener('message', (event: MessageEvent) => endpoint.receive(event.data));
  return endpoint;
}

export function loadState<T extends object>(fallback: T, check: (state: Partial<T>) => boolean = () => true): T {
  const saved = api.getState();
  if (typeof saved !== 'object' || saved === null) return fallback;
  const merged = { ...fallback, ...(saved as Partial<T>) };
  return check(merged) ? merged : fallback;
}

export function saveState(state: object): void {
  api.setState(state);
}
