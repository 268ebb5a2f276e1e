/**
 * WordNet's morphy: the base forms of an inflected word that are in WordNet, by part of speech. First the
 * exception list of the part of speech (`geese -> goose`, `ran -> run`, `better -> good`), else the word itself
 * and the detachment rules below (WordNet's morph.c tables), applied again to the results while nothing is
 * found (NLTK's reading, which returns every base form found, exceptions first).
 */
import type { Pos } from './types';

/** [suffix, replacement] per part of speech, in WordNet's order. Adverbs have none. */
export const MORPHY_RULES: Readonly<Record<Pos, readonly (readonly [string, string])[]>> = {
  n: [['s', ''], ['ses', 's'], ['xes', 'x'], ['zes', 'z'], ['ches', 'ch'], ['shes', 'sh'], ['men', 'man'], ['ies', 'y']],
  v: [['s', ''], ['ies', 'y'], ['es', 'e'], ['es', ''], ['ed', 'e'], ['ed', ''], ['ing', 'e'], ['ing', '']],
  a: [['er', ''], ['est', ''], ['er', 'e'], ['est', 'e']],
  r: [],
};

/** inflected form -> base forms, per part of speech (the `<pos>.exc` files). */
export type ExceptionLists = Readonly<Record<Pos, ReadonlyMap<string, readonly string[]>>>;

/** Parses one `<pos>.exc` file: `inflected base [base...]` per line. */
export function parseExceptions(text: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const [form, ...bases] = line.trim().split(/\s+/);
    if (form && bases.length > 0) map.set(form, bases);
  }
  return map;
}

function applyRules(forms: readonly string[], pos: Pos): string[] {
  const out: string[] = [];
  for (const form of forms) {
    for (const [suffix, replacement] of MORPHY_RULES[pos]) {
      if (form.endsWith(suffix) && form.length > suffix.length) out.push(form.slice(0, -suffix.length) + replacement);
    }
  }
  return out;
}

/**
 * Base forms of `word` as `pos` that `inWordNet` knows, most likely first. `word` is lowercased; spaces become
 * underscores (WordNet's collocation form).
 */
export function morphy(
  word: string,
  pos: Pos,
  exceptions: ExceptionLists,
  inWordNet: (lemma: string, pos: Pos) => boolean,
): string[] {
  const form = word.toLowerCase().trim().replace(/\s+/g, '_');
  if (form === '') return [];
  const keep = (forms: readonly string[]): string[] => [...new Set(forms.filter((f) => inWordNet(f, pos)))];
  const irregular = exceptions[pos].get(form);
  if (irregular) return keep([form, ...irregular]);
  let forms = applyRules([form], pos);
  const found = keep([form, ...forms]);
  if (found.length > 0) return found;
  // a second pass on what the rules made ("-ses" -> "-se" -> ...), while anything is left
  for (let pass = 0; pass < 3 && forms.length > 0; pass++) {
    forms = applyRules(forms, pos);
    const more = keep(forms);
    if (more.length > 0) return more;
  }
  return [];
}
