/**
 * The host <-> webview plumbing without a webview: two Endpoints wired back to back (request ids, replies with a
 * result or an error, the `ready` handshake, reloads), the compact number encodings, and the page's CSP.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeBase64, decodeUnit16, decodeUnit8, encodeBase64, encodeUnit16, encodeUnit8 } from '../../src/protocol/bytes';
import { AttentionMessages } from '../../src/protocol/attention';
import { Endpoint, isEnvelope, notificationType, requestType, RpcError, type Envelope } from '../../src/protocol/rpc';
import { contentSecurityPolicy, newNonce, webviewHtml } from '../../src/webviewHost/html';

const add = requestType<{ a: number; b: number }, number>('test/add');
const fail = requestType<null, never>('test/fail');
const hello = notificationType<{ name: string }>('test/hello');

/** A host endpoint (waits for ready) and a webview endpoint, each posting to the other asynchronously. */
function pair() {
  const log: string[] = [];
  const wire: { toWebview: Envelope[]; toHost: Envelope[] } = { toWebview: [], toHost: [] };
  let host!: Endpoint;
  let webview!: Endpoint;
  host = new Endpoint(
    (m) => {
      wire.toWebview.push(m);
      queueMicrotask(() => webview.receive(structuredClone(m)));
    },
    { waitForReady: true, log: (m) => log.push(`host: ${m}`) },
  );
  webview = new Endpoint(
    (m) => {
      wire.toHost.push(m);
      queueMicrotask(() => host.receive(structuredClone(m)));
    },
    { log: (m) => log.push(`webview: ${m}`) },
  );
  return { host, webview, wire, log };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('protocol: Endpoint', () => {
  test('the host queues what it sends until the webview is ready, then delivers in order', async () => {
    const { host, webview, wire } = pair();
    const seen: string[] = [];
    webview.onNotification(hello, (p) => seen.push(p.name));
    host.sendNotification(hello, { name: 'a' });
    host.sendNotification(hello, { name: 'b' });
    await tick();
    assert.equal(wire.toWebview.length, 0);
    assert.equal(host.isReady, false);
    webview.sendReady();
    await tick();
    assert.deepEqual(seen, ['a', 'b']);
    assert.equal(host.isReady, true);
  });

  test('a request gets the reply with its id; a handler error comes back as an RpcError with its code', async () => {
    const { host, webview } = pair();
    host.onRequest(add, ({ a, b }) => a + b);
    host.onRequest(fail, () => {
      throw Object.assign(new Error('stale text'), { code: 'STALE' });
    });
    webview.sendReady();
    const [x, y] = await Promise.all([webview.sendRequest(add, { a: 1, b: 2 }), webview.sendRequest(add, { a: 10, b: 20 })]);
    assert.deepEqual([x, y], [3, 30]);
    await assert.rejects(webview.sendRequest(fail, null), (e: unknown) => e instanceof RpcError && e.code === 'STALE' && e.message === 'stale text');
    await assert.rejects(
      webview.sendRequest(requestType<null, null>('test/none'), null),
      (e: unknown) => e instanceof RpcError && e.code === 'NO_METHOD',
    );
  });

  test('async handlers, and requests from the host to the webview', async () => {
    const { host, webview } = pair();
    webview.onRequest(add, async ({ a, b }) => {
      await tick();
      return a * b;
    });
    const pending = host.sendRequest(add, { a: 3, b: 4 });
    webview.sendReady();
    assert.equal(await pending, 12);
  });

  test('a reloaded webview says ready again: the host is told, and what the old page owed is rejected', async () => {
    const { host, webview } = pair();
    let readies = 0;
    host.onReady(() => readies++);
    webview.sendReady();
    await tick();
    webview.onRequest(add, () => new Promise<number>(() => {})); // the old page never answers
    const owed = host.sendRequest(add, { a: 1, b: 1 });
    await tick();
    webview.sendReady();
    await assert.rejects(owed, (e: unknown) => e instanceof RpcError && e.code === 'RELOADED');
    assert.equal(readies, 2);
  });

  test('malformed messages are dropped and logged; late replies are ignored; dispose rejects what is pending', async () => {
    const { host, webview, log } = pair();
    host.receive({ hello: 1 });
    host.receive({ lmLens: 1, kind: 'reply', id: 99, result: 1 });
    host.receive({ lmLens: 1, kind: 'notify', method: 'nobody/listens', params: null });
    assert.equal(log.length, 2);
    assert.match(log[0]!, /malformed/);
    const pending = webview.sendRequest(add, { a: 1, b: 2 });
    webview.dispose();
    await assert.rejects(pending, (e: unknown) => e instanceof RpcError && e.code === 'DISPOSED');
    await assert.rejects(webview.sendRequest(add, { a: 1, b: 2 }), (e: unknown) => e instanceof RpcError && e.code === 'DISPOSED');
  });

  test('isEnvelope checks every kind', () => {
    assert.equal(isEnvelope({ lmLens: 1, kind: 'ready' }), true);
    assert.equal(isEnvelope({ lmLens: 1, kind: 'request', id: 1, method: 'm', params: {} }), true);
    assert.equal(isEnvelope({ lmLens: 1, kind: 'request', id: '1', method: 'm' }), false);
    assert.equal(isEnvelope({ lmLens: 1, kind: 'reply', id: 1, result: null }), true);
    assert.equal(isEnvelope({ lmLens: 1, kind: 'reply', id: 1 }), false);
    assert.equal(isEnvelope({ lmLens: 1, kind: 'reply', id: 1, error: { code: 'X' } }), false);
    assert.equal(isEnvelope({ lmLens: 1, kind: 'notify', method: 'm' }), true);
    assert.equal(isEnvelope({ lmLens: 2, kind: 'ready' }), false);
    assert.equal(isEnvelope(null), false);
  });

  test('message names are unique', () => {
    const methods = Object.values(AttentionMessages).map((m) => m.method);
    assert.equal(new Set(methods).size, methods.length);
  });
});

describe('protocol: compact numbers', () => {
  test('base64 matches Node and round-trips every length', () => {
    for (let n = 0; n < 40; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
      const text = encodeBase64(bytes);
      assert.equal(text, Buffer.from(bytes).toString('base64'));
      assert.deepEqual(Array.from(decodeBase64(text)), Array.from(bytes));
    }
    const big = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7) & 0xff);
    assert.equal(encodeBase64(big), Buffer.from(big).toString('base64'));
    assert.throws(() => decodeBase64('ab$d'), /not base64/);
  });

  test('16-bit weights keep 5 digits; 8-bit thumbnails keep 2; values are clamped to [0, 1]', () => {
    const values = Float32Array.from([0, 1, 0.5, 0.123456, 1e-6, -0.2, 1.7]);
    const w = decodeUnit16(encodeUnit16(values));
    [0, 1, 0.5, 0.123456, 0, 0, 1].forEach((v, i) => assert.ok(Math.abs(w[i]! - v) <= 1 / 65535 / 2 + 1e-7, `${i}: ${w[i]}`));
    const t = decodeUnit8(encodeUnit8(values));
    [0, 1, 0.5, 0.123456, 0, 0, 1].forEach((v, i) => assert.ok(Math.abs(t[i]! - v) <= 1 / 255 / 2 + 1e-7, `${i}: ${t[i]}`));
  });
});

describe('webview page', () => {
  test('a strict CSP: nothing by default, scripts only by nonce, resources only from the webview source', () => {
    const csp = contentSecurityPolicy('https://x.vscode-cdn.net', 'abc123');
    assert.match(csp, /^default-src 'none'/);
    assert.match(csp, /script-src 'nonce-abc123'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
    assert.match(csp, /style-src https:\/\/x\.vscode-cdn\.net/);
  });

  test('the page loads its one script with the nonce, and escapes what it is given', () => {
    const nonce = newNonce();
    const html = webviewHtml({
      cspSource: 'vscode-resource:',
      nonce,
      scriptUri: 'https://file+.vscode-resource/dist/webview/attention.js',
      styleUris: ['https://file+.vscode-resource/media/webview/common.css'],
      title: 'A <b>title</b>',
    });
    assert.equal(html.match(/<script /g)?.length, 1);
    assert.ok(html.includes(`<script nonce="${nonce}" src="https://file+.vscode-resource/dist/webview/attention.js">`));
    assert.ok(html.includes(`'nonce-${nonce}'`));
    assert.ok(html.includes('A &lt;b&gt;title&lt;/b&gt;'));
  });

  test('nonces are fresh, long and from the platform CSPRNG', () => {
    const nonces = new Set(Array.from({ length: 100 }, () => newNonce()));
    assert.equal(nonces.size, 100);
    for (const n of nonces) assert.match(n, /^[0-9a-f]{32}$/);
  });
});
