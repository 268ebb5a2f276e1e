import * as vscode from 'vscode';
import type { SenseCandidate } from '../../engine/api';

const POS: Readonly<Record<string, string>> = { n: 'noun', v: 'verb', a: 'adjective', r: 'adverb' };

/** `lmLens.showAllSenses` (from the hover's link): every candidate sense with its score, best first. */
export async function showAllSenses(argument?: unknown): Promise<void> {
  const { word, candidates, method } = (argument ?? {}) as { word?: string; candidates?: SenseCandidate[]; method?: string };
  if (!Array.isArray(candidates) || candidates.length === 0) return;
  const nearest = method === 'nearest-sense';
  const items = candidates.map((c, i) => ({
    label: `${nearest ? c.score.toFixed(2) : `${Math.round(c.score * 100)}%`}  ${c.lemma} (${POS[c.pos] ?? c.pos})${i === 0 ? '  — chosen' : ''}`,
    description: c.senseKey,
    detail: `${c.gloss}${c.words.length > 1 ? `  [${c.words.join(', ')}]` : ''}`,
  }));
  await vscode.window.showQuickPick(items, {
    title: `LM Lens: the ${candidates.length} WordNet senses of "${word ?? ''}", best first`,
    matchOnDescription: true,
    matchOnDetail: true,
  });
}
