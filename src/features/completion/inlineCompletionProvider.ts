import * as vscode from 'vscode';
import { readConfig } from '../../config';
import { describeError, log } from '../../log';
import { abortSignalFor, isCancellation } from '../cancellation';
import type { EngineService } from '../engineService';
import type { MiniModelNotices } from '../models/miniModelNotice';
import { confidentPrefix } from '../../engine/tasks/generate/confidence';
import { inlineEnabledFor, promptBefore, tidyCompletion, wantsGhostText } from './completionText';

/** Documents that get ghost text: files and unsaved editors (not output panels, git objects, ...). */
const SELECTOR: vscode.DocumentSelector = [{ scheme: 'file' }, { scheme: 'untitled' }];

/**
 * Ghost text from the causal LM at the end of a line, in the languages `lmLens.completion.enable` turns on
 * (plaintext and markdown by default), cut to the words the model is sure of (`minTokenProbability`). The prompt
 * is token-healed (generate's `heal`): the model re-writes its end back to the start of the word, so a half-typed
 * word or a typed space continues as the model would have tokenized the text (README, "Ghost text", has the
 * measurements). Debounced: it waits `debounceMs` after the last keystroke, and VS Code cancels the request as soon
 * as typing continues, which aborts the generation in the worker. Failures go to the log, never to a toast.
 */
export class LmInlineCompletionProvider implements vscode.InlineCompletionItemProvider {
  private lastError: string | undefined;

  constructor(
    private readonly engines: EngineService,
    private readonly notices?: MiniModelNotices,
  ) {}

  async provideInlineCompletionItems(
    document: vscode.TextDocument,
    position: vscode.Position,
    _context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[] | undefined> {
    const config = readConfig().completion;
    if (!inlineEnabledFor(config.enable, document.languageId)) return undefined;
    const line = document.lineAt(position.line).text;
    if (!wantsGhostText(line.slice(0, position.character), line.slice(position.character))) return undefined;
    if (!(await pause(config.debounceMs, token))) return undefined;

    const prompt = promptBefore(document.getText(), document.offsetAt(position));
    const cancel = abortSignalFor(token);
    try {
      const engine = await this.engines.get();
      const result = await engine.generate(
        {
          text: prompt,
          maxTokens: config.maxTokens,
          stop: ['\n'],
          repetitionPenalty: config.repetitionPenalty,
          tokenProbs: true,
          heal: true,
          ...(config.model ? { model: config.model } : {}),
        },
        cancel.signal,
      );
      if (token.isCancellationRequested) return undefined;
      this.lastError = undefined;
      const { completion, tokenEnds = [], tokenProbs = [], healedTokens = 0 } = result;
      const sure = confidentPrefix(completion, tokenEnds, tokenProbs, config.minTokenProbability, healedTokens);
      const text = tidyCompletion(prompt, sure);
      if (text) this.notices?.afterUse(engine, result.model, 'completion');
      const cut = sure.length < result.completion.length ? `, ${JSON.stringify(result.completion)} cut to ${JSON.stringify(sure)}` : '';
      log.debug(`ghost text: ${result.tokens} tokens in ${result.ms} ms${cut}${text ? '' : ' (nothing to show)'}`);
      return text ? [new vscode.InlineCompletionItem(text, new vscode.Range(position, position))] : undefined;
    } catch (error) {
      if (isCancellation(error) || token.isCancellationRequested) return undefined;
      const message = describeError(error);
      if (message !== this.lastError) log.warn(`ghost text: ${message}`); // once, not per keystroke
      this.lastError = message;
      return undefined;
    } finally {
      cancel.dispose();
    }
  }
}

/** Waits `ms`; false when the token is cancelled first (the user kept typing). */
function pause(ms: number, token: vscode.CancellationToken): Promise<boolean> {
  if (token.isCancellationRequested) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      listener.dispose();
      resolve(!token.isCancellationRequested);
    }, ms);
    const listener = token.onCancellationRequested(() => {
      clearTimeout(timer);
      listener.dispose();
      resolve(false);
    });
  });
}

export function registerInlineCompletion(engines: EngineService, notices?: MiniModelNotices): vscode.Disposable {
  return vscode.languages.registerInlineCompletionItemProvider(SELECTOR, new LmInlineCompletionProvider(engines, notices));
}
