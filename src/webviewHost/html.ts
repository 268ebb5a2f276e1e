/**
 * The HTML page of a webview: a strict Content-Security-Policy (nothing by default; scripts only with this
 * page's nonce; styles, fonts and images only from the extension's own resource roots), one script, its styles.
 * Pure (no `vscode` import): the caller passes `webview.cspSource` and the `asWebviewUri` strings.
 */

export interface WebviewPage {
  /** `webview.cspSource`. */
  cspSource: string;
  /** A fresh `newNonce()` per page load. */
  nonce: string;
  scriptUri: string;
  styleUris: readonly string[];
  title: string;
  /** Shown until the script takes over (and to a reader without scripts). */
  loadingText?: string;
}

/** A nonce for one page load: 122 random bits from the platform's CSPRNG, never Math.random. */
export function newNonce(): string {
  return globalThis.crypto.randomUUID().replace(/-/g, '');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    // the nonce also lets the toolkit (FAST) add its <style> probe: it reads <meta property="csp-nonce">
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    // data: and blob: for the PNG export (an SVG drawn into a canvas)
    `img-src ${cspSource} data: blob:`,
  ].join('; ');
}

/** Escapes text for element content and double-quoted attributes (the CSP keeps its single quotes). */
const escapeHtml = (text: string): string =>
  text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export function webviewHtml(page: WebviewPage): string {
  const styles = page.styleUris.map((uri) => `<link rel="stylesheet" href="${escapeHtml(uri)}" />`).join('\n    ');
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8" />
    <meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(page.cspSource, page.nonce))}" />
    <meta name="viewport" content="width=device-width, initial-scale=1.0" />
    <meta property="csp-nonce" content="${page.nonce}" />
    ${styles}
    <title>${escapeHtml(page.title)}</title>
  </head>
  <body>
    <main id="app" aria-busy="true"><p class="loading">${escapeHtml(page.loadingText ?? 'Loading…')}</p></main>
    <script nonce="${page.nonce}" src="${escapeHtml(page.scriptUri)}"></script>
  </body>
</html>`;
}
