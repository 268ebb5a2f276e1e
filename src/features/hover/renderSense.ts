/**
 * The sense and layers sections of the hover, as markdown. Pure (no `vscode`): the provider wraps the string in a
 * trusted MarkdownString that may run only the commands linked here.
 */
import type { SenseCandidate, SenseResult } from '../../engine/api';
import { escapeMarkdown } from './markdown';
import { contextSnippet, layerLabel } from './renderEmbedding';

const POS_NAMES: Readonly<Record<string, string>> = { n: 'noun', v: 'verb', a: 'adjective', r: 'adverb' };
const SIGNAL_NAMES: Readonly<Record<string, string>> = {
  prior: 'sense frequency',
  lesk: 'gloss overlap',
  glove: 'GloVe context vs sense signature',
  elmo: 'ELMo sense vectors',
  bert: 'BERT sense vectors',
};

export const SHOW_ALL_SENSES = 'lmLens.showAllSenses';
export const SHOW_LAYERS = 'lmLens.showLayers';
export const FILL_MASK = 'lmLens.fillMask';
/** Selects the hovered word, then runs Fill Mask on it (registered with the hover). */
export const FILL_WORD = 'lmLens.hover.fillWord';

export interface SenseHoverLinks {
  /** Commands that exist now (a link is shown only for those). */
  available: ReadonlySet<string>;
  /** Arguments for "Show all senses". */
  showAllArgs?: unknown;
}

export function commandLink(title: string, command: string, args?: unknown): string {
  const query = args === undefined ? '' : `?${encodeURIComponent(JSON.stringify(args))}`;
  return `[${title}](command:${command}${query})`;
}

const percent = (p: number): string => `${Math.round(p * 100)}%`;

/** A code span (markdown escapes do not apply inside one). */
const code = (text: string): string => '`' + text.replace(/`/g, "'") + '`';

function senseTitle(c: Pick<SenseCandidate, 'words' | 'lemma'>): string {
  const others = c.words.filter((w) => w.toLowerCase() !== c.lemma.replace(/_/g, ' '));
  return others.length > 0 ? `${c.lemma} (${others.slice(0, 3).join(', ')})` : c.lemma;
}

/** The sense section: lemma and part of speech, the chosen synset, gloss, confidence, evidence, runner-ups. */
export function renderSense(result: SenseResult, links: SenseHoverLinks): string[] {
  const lines: string[] = [];
  const pos = POS_NAMES[result.pos] ?? result.pos;
  const how =
    result.method === 'scorer'
      ? `confidence ${percent(result.score)}`
      : result.method === 'nearest-sense'
        ? `nearest sense, cosine ${result.score.toFixed(2)}`
        : 'most frequent sense (no evidence in this context)';
  lines.push(`**Sense** — *${escapeMarkdown(result.lemma)}* (${pos}) · ${how}`, '');
  lines.push(`> ${escapeMarkdown(result.gloss)}`, '');
  const chosen = result.candidates[0];
  const evidence = result.evidence
    .filter((e) => e.contribution > 0.05)
    .map((e) => `${SIGNAL_NAMES[e.signal] ?? e.signal} +${e.contribution.toFixed(1)}`);
  lines.push(
    code(result.senseKey) +
      (chosen && chosen.words.length > 1 ? ` · ${escapeMarkdown(senseTitle(chosen))}` : '') +
      (evidence.length > 0 ? ` · decided by: ${evidence.join(', ')}` : ''),
    '',
  );
  const runners = result.candidates.slice(1, 3);
  if (runners.length > 0) {
    const text = runners.map((c) => `${escapeMarkdown(shorten(c.gloss, 48))} (${c.pos}, ${percentOrCos(result, c.score)})`).join(' · ');
    const all = links.available.has(SHOW_ALL_SENSES)
      ? ` · ${commandLink(`Show all ${result.candidates.length} senses`, SHOW_ALL_SENSES, links.showAllArgs)}`
      : '';
    lines.push(`Runner-ups: ${text}${all}`, '');
  }
  if (result.missingSenseVectors.length > 0) {
    lines.push(`*No sense vectors yet for ${result.missingSenseVectors.map(code).join(', ')}.*`, '');
  }
  return lines;
}

function percentOrCos(result: SenseResult, score: number): string {
  return result.method === 'nearest-sense' ? score.toFixed(2) : percent(score);
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max - 1).replace(/\s+\S*$/, '') + '…';
}

/**
 * The layers section: per layer, how far the vector moved, and its neighbours in context vs static ones. `text` is
 * the text the request sent (the details' offsets point into it).
 */
export function renderLayers(result: SenseResult, text: string, dims?: number): string[] {
  const d = result.details;
  if (!d) return [];
  const lines: string[] = [];
  lines.push(
    `model ${code(d.model)} · ${d.layers.length} layers${dims ? ` × ${dims} dims` : ''}`,
    '',
  );
  const snippet = contextSnippet(text, d.offsets, d.index);
  if (snippet) lines.push(snippet, '');
  lines.push('| layer | norm | cos to token | cos to usual | nearest words in this context |', '|:--|--:|--:|--:|:--|');
  for (const l of d.layers) {
    lines.push(
      `| ${escapeMarkdown(layerLabel(l.layer))} | ${l.norm.toFixed(2)} | ${l.cosToToken.toFixed(3)} | ` +
        `${l.cosToUsual === undefined ? '–' : l.cosToUsual.toFixed(3)} | ${l.neighbours.map((n) => escapeMarkdown(n.word)).join(', ') || '–'} |`,
    );
  }
  lines.push('');
  for (const s of d.staticNeighbours) {
    lines.push(`static ${code(s.model)} neighbours (same in every context): ${s.neighbours.map((n) => escapeMarkdown(n.word)).join(', ')}  `);
  }
  if (d.staticNeighbours.length > 0) lines.push('');
  return lines;
}

/** "Open layers panel" and "Fill this word", when those commands exist. */
export function renderLinks(links: SenseHoverLinks, at: { uri: string; line: number; start: number; end: number }): string[] {
  const parts: string[] = [];
  if (links.available.has(SHOW_LAYERS)) {
    parts.push(commandLink('Open layers panel', SHOW_LAYERS, [{ uri: at.uri, position: { line: at.line, character: at.start } }]));
  }
  if (links.available.has(FILL_MASK)) parts.push(commandLink('Fill this word', FILL_WORD, [at]));
  return parts.length > 0 ? [parts.join(' · ')] : [];
}
