import * as vscode from 'vscode';
import type { SenseResult } from '../../engine/api';
import { readConfig } from '../../config';
import { describeError, log } from '../../log';
import { abortSignalFor, isCancellation } from '../cancellation';
import type { EngineService } from '../engineService';
import { escapeMarkdown } from './markdown';
import { renderEmbeddingHover } from './renderEmbedding';
import { renderTag } from './renderTag';
import { FILL_MASK, FILL_WORD, renderLayers, renderLinks, renderSense, SHOW_ALL_SENSES, SHOW_LAYERS } from './renderSense';
import { SenseVectorBuilds } from './senseVectorBuilds';
import { showAllSenses } from './showAllSenses';
import { wordContextAt, type TextSource } from './wordContext';

/** Documents the hover looks at: files and unsaved editors, not output panels, diffs of git objects, etc. */
export const HOVER_SELECTOR: vscode.DocumentSelector = [{ scheme: 'file' }, { scheme: 'untitled' }];

/** Commands the hover may link to (a trusted MarkdownString runs only these). */
const LINKED_COMMANDS = [SHOW_ALL_SENSES, SHOW_LAYERS, FILL_WORD];

/**
 * The word under the mouse, in context: its WordNet sense (chosen synset, gloss, confidence, evidence, runner-ups)
 * and its ELMo layers (how far the vector moved, its neighbours in this context vs static neighbours). In the
 * configured prose languages anywhere, in other languages only inside comments and strings. A new hover aborts
 * the previous request; failures go to the log, never to a toast.
 */
export class EmbeddingHoverProvider implements vscode.HoverProvider {
  /** The request of the previous hover: a new hover makes it stale, so it is aborted. */
  private inFlight: AbortController | undefined;
  private lastError: string | undefined;
  private commands: { at: number; names: Promise<Set<string>> } | undefined;
  readonly builds = new SenseVectorBuilds();

  constructor(
    private readonly engines: EngineService,
    private readonly senseCacheDir?: string,
  ) {}

  async provideHover(
    document: vscode.TextDocument,
    position: vscode.Position,
    token: vscode.CancellationToken,
  ): Promise<vscode.Hover | undefined> {
    const config = readConfig();
    if (!config.hover.enabled) return undefined;
    const mode = config.hover.languages.includes(document.languageId) ? 'prose' : 'code';
    const context = wordContextAt(textSource(document), position.line, position.character, mode);
    if (!context) return undefined;

    this.inFlight?.abort();
    const stale = new AbortController();
    this.inFlight = stale;
    const cancel = abortSignalFor(token);
    const signal = AbortSignal.any([stale.signal, cancel.signal]);
    try {
      const engine = await this.engines.get();
      if (signal.aborted) return undefined;
      if (this.senseCacheDir) engine.senses.useCacheDir(this.senseCacheDir);
      const started = performance.now();
      const request = { text: context.text, word: context.word, occurrence: context.occurrence };
      const range = new vscode.Range(context.line, context.start, context.line, context.end);
      const sense = await engine.senses
        .sense({ ...request, details: true }, signal, {
          elmo: config.models.elmo,
          ...(config.fillMask.model ? { bert: config.fillMask.model } : {}),
        })
        .catch((error: unknown) => {
          // a word WordNet does not know ("the", a name, another language): the layers alone
          if ((error as { code?: unknown }).code === 'BAD_INPUT' && /not in WordNet/.test(describeError(error))) return undefined;
          throw error;
        });
      let markdown: string;
      if (sense?.details) {
        markdown = await this.render(context.word, context.text, sense, { uri: document.uri.toString(), line: context.line, start: context.start, end: context.end });
      } else {
        const embedded = await engine.embed({ ...request, model: config.models.elmo, tag: true }, signal);
        markdown = renderEmbeddingHover(context.word, embedded, context.text);
      }
      if (signal.aborted) return undefined; // a reply that arrives after a cancel is dropped
      log.debug(
        `hover "${context.word}" (${context.occurrence}) in ${Math.round(performance.now() - started)} ms` +
          (sense ? `: ${sense.senseKey} ${sense.method} ${sense.score}` : '') +
          (sense?.tag ? ` (${sense.tag.tag} ${sense.tag.probability}${sense.tag.filtered ? ', filtered' : ''})` : ''),
      );
      this.lastError = undefined;
      if (sense && sense.missingSenseVectors.length > 0) void this.builds.ensure(engine, sense.missingSenseVectors);
      const md = new vscode.MarkdownString(markdown);
      md.isTrusted = { enabledCommands: LINKED_COMMANDS };
      return new vscode.Hover(md, range);
    } catch (error) {
      if (isCancellation(error) || signal.aborted) return undefined;
      const message = describeError(error);
      if (message !== this.lastError) log.warn(`hover "${context.word}": ${message}`); // once, not per hover
      this.lastError = message;
      return undefined;
    } finally {
      cancel.dispose();
      if (this.inFlight === stale) this.inFlight = undefined;
    }
  }

  private async render(
    word: string,
    text: string,
    sense: SenseResult,
    at: { uri: string; line: number; start: number; end: number },
  ): Promise<string> {
    const available = await this.availableCommands();
    const links = { available, showAllArgs: [{ word: sense.word, candidates: sense.candidates, method: sense.method }] };
    return [
      `**LM Lens — "${escapeMarkdown(word)}"**`,
      '',
      ...renderTag(sense.tag),
      ...renderSense(sense, links),
      ...renderLayers(sense, text),
      ...renderLinks(links, at),
    ].join('\n');
  }

  /** The commands that exist (other features register theirs), refreshed at most once a minute. */
  private availableCommands(): Promise<Set<string>> {
    const now = Date.now();
    if (!this.commands || now - this.commands.at > 60_000) {
      const names = Promise.resolve(vscode.commands.getCommands(true)).then(
        (all) => new Set(all.filter((c) => c === SHOW_ALL_SENSES || c === SHOW_LAYERS || c === FILL_MASK)),
        () => new Set<string>(),
      );
      this.commands = { at: now, names };
    }
    return this.commands.names;
  }

  dispose(): void {
    this.inFlight?.abort();
    this.builds.dispose();
  }
}

export function textSource(document: vscode.TextDocument): TextSource {
  return { lineCount: document.lineCount, lineAt: (line) => document.lineAt(line).text };
}

/** Selects the hovered word, then runs Fill Mask (which masks the selection). */
async function fillWord(argument: unknown): Promise<void> {
  const { uri, line, start, end } = (argument ?? {}) as { uri?: string; line?: number; start?: number; end?: number };
  if (typeof uri !== 'string' || typeof line !== 'number' || typeof start !== 'number' || typeof end !== 'number') return;
  const editor = await vscode.window.showTextDocument(vscode.Uri.parse(uri));
  editor.selection = new vscode.Selection(line, start, line, end);
  await vscode.commands.executeCommand(FILL_MASK);
}

/**
 * The hover, its "Show all senses" and "Fill this word" commands. `senseCacheDir` (global storage) keeps sense
 * vectors built for the user's own models.
 */
export function registerEmbeddingHover(engines: EngineService, senseCacheDir?: string): vscode.Disposable {
  const provider = new EmbeddingHoverProvider(engines, senseCacheDir);
  return vscode.Disposable.from(
    vscode.languages.registerHoverProvider(HOVER_SELECTOR, provider),
    vscode.commands.registerCommand(SHOW_ALL_SENSES, showAllSenses),
    vscode.commands.registerCommand(FILL_WORD, fillWord),
    provider,
  );
}
