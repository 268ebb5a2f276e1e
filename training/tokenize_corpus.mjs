// Tokenise the corpus splits with @huggingface/tokenizers — the library the extension runs — so training
// and inference share one tokenisation. Usage: node tokenize_corpus.mjs CORPUS_DIR TOK_DIR OUT_DIR
// Writes, per split: <name>.<split>.ids (uint16 LE token ids) and <name>.<split>.lines (uint32 LE line ends),
// and words.<split>.txt: the words of the extension's word splitter (ELMo, NNLM, word2vec), one line a paragraph.
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { createRequire } from 'node:module';

const require = createRequire(path.resolve('../package.json'));
const { Tokenizer } = require('@huggingface/tokenizers');
const [corpusDir, tokDir, outDir] = process.argv.slice(2);
fs.mkdirSync(outDir, { recursive: true });

// Same splitter as src/engine/words.ts (ELMo words): a Han character alone, letters/digits runs with their combining
// marks and inner apostrophes, or one other character (with its marks).
const WORD =
  /\p{sc=Han}\p{M}*|(?:[^\P{L}\p{sc=Han}]|\p{N})(?:[^\P{L}\p{sc=Han}]|\p{N}|\p{M})*(?:['\u2019][^\P{L}\p{sc=Han}](?:[^\P{L}\p{sc=Han}]|\p{M})*)*|[^\s\p{L}\p{N}]\p{M}*/gu;

const load = (name) => new Tokenizer(
  JSON.parse(fs.readFileSync(path.join(tokDir, name, 'tokenizer.json'), 'utf8')),
  JSON.parse(fs.readFileSync(path.join(tokDir, name, 'tokenizer_config.json'), 'utf8')));
const toks = { bert: load('bert'), gpt2: load('gpt2') };

for (const split of ['train', 'valid', 'test']) {
  const t0 = Date.now();
  const ids = { bert: [], gpt2: [] };
  const lines = { bert: [], gpt2: [] };
  const words = [];
  const rl = readline.createInterface({ input: fs.createReadStream(path.join(corpusDir, `${split}.txt`)) });
  for await (const line of rl) {
    if (!line) continue;
    for (const name of ['bert', 'gpt2']) {
      const enc = toks[name].encode(line, { add_special_tokens: false });
      for (const id of enc.ids) ids[name].push(id);
      lines[name].push(ids[name].length);
    }
    words.push((line.match(WORD) ?? []).join(' '));
  }
  for (const name of ['bert', 'gpt2']) {
    fs.writeFileSync(path.join(outDir, `${name}.${split}.ids`), Buffer.from(Uint16Array.from(ids[name]).buffer));
    fs.writeFileSync(path.join(outDir, `${name}.${split}.lines`), Buffer.from(Uint32Array.from(lines[name]).buffer));
  }
  fs.writeFileSync(path.join(outDir, `words.${split}.txt`), words.join('\n') + '\n');
  console.error(`tokenize ${split}: bert ${ids.bert.length} gpt2 ${ids.gpt2.length} tokens, ${words.length} lines, ${Date.now() - t0} ms`);
}
