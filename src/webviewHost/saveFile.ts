import * as vscode from 'vscode';
import type { SavedFile } from '../protocol/attention';

const FILTERS: Record<string, Record<string, string[]>> = {
  png: { 'PNG image': ['png'] },
  svg: { 'SVG image': ['svg'] },
  json: { JSON: ['json'] },
  csv: { CSV: ['csv'] },
};

/** Asks where to save an export (next to the workspace by default) and writes it. */
export async function saveExport(name: string, extension: string, content: string | Uint8Array): Promise<SavedFile> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const safeName = name.replace(/[^\w.-]+/g, '-');
  const target = await vscode.window.showSaveDialog({
    ...(folder ? { defaultUri: vscode.Uri.joinPath(folder, `${safeName}.${extension}`) } : {}),
    filters: FILTERS[extension] ?? {},
    title: `LM Lens: save ${extension.toUpperCase()}`,
  });
  if (!target) return {};
  const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
  await vscode.workspace.fs.writeFile(target, bytes);
  void vscode.window.showInformationMessage(`LM Lens: saved ${vscode.workspace.asRelativePath(target)}`);
  return { path: target.fsPath };
}

/** The bytes of a `data:image/png;base64,...` URL; throws on anything else. */
export function pngDataUrlBytes(url: string): Uint8Array {
  const match = /^data:image\/png;base64,([A-Za-z0-9+/=]+)$/.exec(url);
  if (!match) throw Object.assign(new Error('Not a PNG data URL.'), { code: 'BAD_INPUT' });
  return Buffer.from(match[1]!, 'base64');
}

/** The image a webview sent: PNG bytes, or SVG text that must look like an SVG document. */
export function imageBytes(format: 'png' | 'svg', data: string): string | Uint8Array {
  if (format === 'png') return pngDataUrlBytes(data);
  if (typeof data !== 'string' || !/^\s*(<\?xml[^>]*>\s*)?<svg[\s>]/.test(data)) {
    throw Object.assign(new Error('Not an SVG document.'), { code: 'BAD_INPUT' });
  }
  return data;
}
