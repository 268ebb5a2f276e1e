import * as vscode from 'vscode';
import { Endpoint } from '../protocol/rpc';
import { log } from '../log';
import { newNonce, webviewHtml } from './html';

/** Folders a webview may load from: the bundled scripts and the css/icons, nothing else. */
export function webviewRoots(extensionUri: vscode.Uri): vscode.Uri[] {
  return [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media', 'webview')];
}

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: webviewRoots(extensionUri) };
}

/** Sets the page of `webview`: dist/webview/<name>.js, media/webview/<name>.css, a fresh nonce. */
export function setWebviewPage(webview: vscode.Webview, extensionUri: vscode.Uri, name: string, title: string): void {
  const uri = (...parts: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...parts)).toString();
  webview.html = webviewHtml({
    cspSource: webview.cspSource,
    nonce: newNonce(),
    scriptUri: uri('dist', 'webview', `${name}.js`),
    styleUris: [uri('media', 'webview', 'common.css'), uri('media', 'webview', `${name}.css`)],
    title,
  });
}

/**
 * The host's end of a webview's message channel: what is sent waits for the page's `ready`; a reloaded page
 * says `ready` again (listen with `endpoint.onReady` to send the state again).
 */
export function connectWebview(webview: vscode.Webview, name: string): { endpoint: Endpoint; disposable: vscode.Disposable } {
  const endpoint = new Endpoint(
    (message) => {
      webview.postMessage(message).then(undefined, (error: unknown) => log.debug(`${name}: postMessage failed: ${String(error)}`));
    },
    { waitForReady: true, log: (message) => log.warn(`${name} webview: ${message}`) },
  );
  const listener = webview.onDidReceiveMessage((message: unknown) => endpoint.receive(message));
  return { endpoint, disposable: vscode.Disposable.from(listener, { dispose: () => endpoint.dispose() }) };
}
