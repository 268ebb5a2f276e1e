/**
 * The pure part of the first-use notice for the shipped mini models: what the model is, from its config.json
 * (`lm_lens_training`, written by training/run.py), and which larger model to suggest. No `vscode` here.
 */
import type { ModelInfo } from '../../engine/api';

export type MiniFeature = 'fill' | 'completion';

/** What "Add a Larger Model…" opens Add Model on: the transformers.js exports of the distilled classics. */
export const LARGER_MODEL: Readonly<Record<MiniFeature, string>> = {
  fill: 'Xenova/distilbert-base-uncased',
  completion: 'Xenova/distilgpt2',
};

const FEATURE_NAME: Readonly<Record<MiniFeature, string>> = { fill: 'Fill Mask', completion: 'Completion' };

export interface MiniNotice {
  message: string;
  /** The repository Add Model should offer first. */
  repo: string;
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** 8215744 -> "8.2M", 30012000 -> "30.0M", 950000 -> "950k". */
export function compactCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${Math.round(n / 1e3)}k`;
  return String(n);
}

/** "cloze top-5 0.20, BLiMP 0.51" from the scoreboard the pipeline stores in config.json; '' without one. */
export function scoreboardLine(scoreboard: unknown): string {
  if (!scoreboard || typeof scoreboard !== 'object') return '';
  const s = scoreboard as Record<string, unknown>;
  const parts: string[] = [];
  const top5 = num(s['cloze_top5']);
  const ppl = num(s['modern_perplexity']);
  const blimp = num(s['blimp']);
  if (top5 !== undefined) parts.push(`cloze top-5 ${top5.toFixed(2)}`);
  if (ppl !== undefined) parts.push(`perplexity ${ppl.toFixed(0)} on modern text`);
  if (blimp !== undefined) parts.push(`BLiMP ${blimp.toFixed(2)}`);
  return parts.join(', ');
}

/**
 * The notice for `feature` using `model`, or undefined when there is nothing to say: a model the user added, or
 * a shipped one that was not trained by this project's pipeline (no `lm_lens_training` in its config).
 */
export function miniModelNotice(model: Pick<ModelInfo, 'id' | 'source'>, config: Record<string, unknown>, feature: MiniFeature): MiniNotice | undefined {
  if (model.source !== 'shipped') return undefined;
  const training = config['lm_lens_training'];
  if (!training || typeof training !== 'object') return undefined;
  const t = training as Record<string, unknown>;
  const params = num(t['parameters']);
  const tokens = num(t['cumulative_tokens']) ?? num(t['tokens_seen']);
  const facts = [params !== undefined ? `${compactCount(params)} parameters` : '', tokens !== undefined ? `${compactCount(tokens)} training tokens` : '']
    .filter(Boolean)
    .join(', ');
  const scores = scoreboardLine(t['scoreboard']);
  const message =
    `LM Lens: ${FEATURE_NAME[feature]} is using ${model.id}, a small model trained on a laptop-sized CPU for this extension` +
    `${facts ? ` (${facts})` : ''}${scores ? `; scoreboard: ${scores}` : ''}. ` +
    'It shows how the method works; for useful predictions add a larger model.';
  return { message, repo: LARGER_MODEL[feature] };
}
