/**
 * The hover's part-of-speech line: the tagger's tag for the hovered word, in words, with its probability. Pure (no
 * `vscode`).
 */
import type { SenseTag, WordTagResult } from '../../engine/api';
import { escapeMarkdown } from './markdown';

/** Universal tags (Petrov et al. 2012, and Universal Dependencies' names) in words. */
const TAG_NAMES: Readonly<Record<string, string>> = {
  NOUN: 'noun',
  PROPN: 'proper noun',
  VERB: 'verb',
  AUX: 'auxiliary verb',
  ADJ: 'adjective',
  ADV: 'adverb',
  PRON: 'pronoun',
  DET: 'determiner',
  ADP: 'preposition',
  NUM: 'numeral',
  CONJ: 'conjunction',
  CCONJ: 'conjunction',
  SCONJ: 'subordinating conjunction',
  PRT: 'particle',
  PART: 'particle',
  INTJ: 'interjection',
  '.': 'punctuation',
  PUNCT: 'punctuation',
  SYM: 'symbol',
  X: 'other',
};

/** "noun" for NOUN; a tag the table does not know (a Penn or NER label) as it is. */
export function tagName(tag: string): string {
  return TAG_NAMES[tag] ?? tag;
}

/** `Part of speech: **noun** 97% · tagger \`pos-elmo-mini\`` (and what the sense filter did, for a sense's tag). */
export function renderTag(tag: WordTagResult | SenseTag | undefined): string[] {
  if (!tag) return [];
  const name = tagName(tag.tag);
  const shown = escapeMarkdown(name);
  let filter = '';
  if ('filtered' in tag) {
    if (tag.filtered) filter = ' · senses of this part of speech only';
    else if (tag.reason === 'unsure') filter = ' · unsure: senses of every part of speech';
    else if (tag.reason === 'no-senses-of-that-pos') filter = ` · WordNet has no ${escapeMarkdown(name)} senses of this word`;
  }
  return [`Part of speech: **${shown}** ${Math.round(tag.probability * 100)}% · tagger \`${tag.model.replace(/`/g, "'")}\`${filter}`, ''];
}
