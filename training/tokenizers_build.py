"""Train the project's tokenizers and write them as Hugging Face `tokenizer.json` files.

Hand-written on purpose: the Hugging Face `tokenizers` Python package (which has trainers) is not available
from Debian, and PyPI is unreachable here. The trainers below are the standard algorithms:
- byte-level BPE (GPT-2): GPT-2 pre-tokenisation, bytes mapped to printable unicode, greedy pair merges;
- WordPiece (BERT, uncased): lowercased, accent-stripped BERT pre-tokens; merges learned with the BPE
  algorithm over pieces carrying the `##` continuation prefix (what the `tokenizers` WordPiece trainer does);
- a word-level vocabulary (ELMo's LM softmax, NNLM) counted from the words the extension's splitter produces.
The corpus is then tokenised in Node by `@huggingface/tokenizers` (tokenize_corpus.mjs), i.e. by the very code the
extension runs, so training and inference share one tokenisation by construction.
"""
import collections
import heapq
import json
import os
import re
import unicodedata

from common import log

GPT2_PAT = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?[^\s\w]+|\s+(?!\S)|\s+""")


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def train_bpe(word_counts, n_merges, min_count=2):
    """word_counts: {tuple(symbols): count}. Returns the merges in order (incremental pair counting)."""
    words = [list(w) for w in word_counts]
    counts = list(word_counts.values())
    pair_count = collections.Counter()
    where = collections.defaultdict(set)
    for i, (w, c) in enumerate(zip(words, counts)):
        for a, b in zip(w, w[1:]):
            pair_count[(a, b)] += c
            where[(a, b)].add(i)
    heap = [(-c, p) for p, c in pair_count.items()]
    heapq.heapify(heap)
    merges = []
    while len(merges) < n_merges and heap:
        negc, pair = heapq.heappop(heap)
        if pair_count.get(pair, 0) != -negc:
            continue  # stale entry
        if -negc < min_count:
            break
        merges.append(pair)
        a, b = pair
        new = a + (b[2:] if b.startswith("##") else b)
        changed = collections.Counter()
        for i in list(where[pair]):
            w, c = words[i], counts[i]
            j, out = 0, []
            while j < len(w):
                if j < len(w) - 1 and w[j] == a and w[j + 1] == b:
                    out.append(new)
                    j += 2
                else:
                    out.append(w[j])
                    j += 1
            if out == w:
                continue
            for x, y in zip(w, w[1:]):
                changed[(x, y)] -= c
            for x, y in zip(out, out[1:]):
                changed[(x, y)] += c
                where[(x, y)].add(i)
            words[i] = out
        for p, d in changed.items():
            if d:
                pair_count[p] += d
                if pair_count[p] <= 0:
                    del pair_count[p]
                else:
                    heapq.heappush(heap, (-pair_count[p], p))
        pair_count.pop(pair, None)
        where.pop(pair, None)
    return merges


def added(i, tok):
    return {"id": i, "content": tok, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
            "special": True}


# ------------------------------------------------------------------------------------------------ GPT-2
def build_bpe(train_txt, out_dir, vocab_size, max_lines=None):
    b2u = bytes_to_unicode()
    counts = collections.Counter()
    with open(train_txt) as f:
        for n, line in enumerate(f):
            if max_lines and n >= max_lines:
                break
            for tok in GPT2_PAT.findall(line.rstrip("\n")):
                counts[tok] += 1
    wc = collections.Counter()
    for tok, c in counts.items():
        wc[tuple(b2u[b] for b in tok.encode("utf-8"))] += c
    alphabet = [b2u[b] for b in range(256)]
    specials = ["<|endoftext|>"]
    n_merges = vocab_size - len(alphabet) - len(specials)
    log(f"tokenizers: BPE over {len(wc)} distinct pre-tokens, {n_merges} merges")
    merges = train_bpe(wc, n_merges)
    vocab = {}
    for s in alphabet:
        vocab[s] = len(vocab)
    for a, b in merges:
        if a + b not in vocab:
            vocab[a + b] = len(vocab)
    eos = len(vocab)
    vocab["<|endoftext|>"] = eos
    tok = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added(eos, "<|endoftext|>")],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": [f"{a} {b}" for a, b in merges]},
    }
    cfg = {"tokenizer_class": "GPT2Tokenizer", "model_max_length": 512, "bos_token": "<|endoftext|>",
           "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>", "add_prefix_space": False,
           "clean_up_tokenization_spaces": False}
    write(out_dir, tok, cfg)
    with open(os.path.join(out_dir, "merges.txt"), "w") as f:
        f.write("#version: 0.2\n" + "\n".join(f"{a} {b}" for a, b in merges) + "\n")
    json.dump(vocab, open(os.path.join(out_dir, "vocab.json"), "w"), ensure_ascii=False)
    return len(vocab)


# ------------------------------------------------------------------------------------------------ BERT
def bert_normalize(text):
    text = unicodedata.normalize("NFD", text.lower())
    return "".join(c for c in text if unicodedata.category(c) != "Mn")


def is_punct(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def bert_pretokenize(text):
    out = []
    for w in text.split():
        cur = ""
        for ch in w:
            if is_punct(ch):
                if cur:
                    out.append(cur)
                    cur = ""
                out.append(ch)
            else:
                cur += ch
        if cur:
            out.append(cur)
    return out


def build_wordpiece(train_txt, out_dir, vocab_size, max_lines=None, seed_words=()):
    """seed_words (e.g. GloVe's most frequent words) enter the vocabulary whole before the merges fill the rest: a
    ~10M-word corpus alone leaves everyday words like "coffee" in pieces, which a one-[MASK] cloze cannot predict
    and which GloVe cannot initialise."""
    counts = collections.Counter()
    with open(train_txt) as f:
        for n, line in enumerate(f):
            if max_lines and n >= max_lines:
                break
            counts.update(bert_pretokenize(bert_normalize(line)))
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = collections.Counter()
    wc = {}
    for w, c in counts.items():
        if len(w) > 100:
            continue
        syms = tuple([w[0]] + ["##" + ch for ch in w[1:]])
        wc[syms] = wc.get(syms, 0) + c
        for s in syms:
            chars[s] += c
    alphabet = [s for s, c in chars.most_common() if c >= 2]
    n_merges = vocab_size - len(specials) - len(alphabet) - len(set(seed_words))
    if seed_words:  # merges that rebuild a seed word add nothing: learn extra merges, stop at vocab_size below
        n_merges = int(n_merges * 1.6)
    log(f"tokenizers: WordPiece over {len(wc)} distinct words, alphabet {len(alphabet)}, {n_merges} merges")
    merges = train_bpe(wc, n_merges)
    vocab = {}
    for s in specials + sorted(alphabet) + list(seed_words):
        vocab.setdefault(s, len(vocab))
    for a, b in merges:
        if len(vocab) >= vocab_size:
            break
        vocab.setdefault(a + (b[2:] if b.startswith("##") else b), len(vocab))
    sid = {s: vocab[s] for s in specials}
    tmpl = lambda t: {"SpecialToken": {"id": t, "type_id": 0}}
    tok = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added(sid[s], s) for s in specials],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [tmpl("[CLS]"), {"Sequence": {"id": "A", "type_id": 0}}, tmpl("[SEP]")],
            "pair": [tmpl("[CLS]"), {"Sequence": {"id": "A", "type_id": 0}}, tmpl("[SEP]"),
                     {"Sequence": {"id": "B", "type_id": 1}}, {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {s: {"id": s, "ids": [sid[s]], "tokens": [s]} for s in ("[CLS]", "[SEP]")},
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab},
    }
    cfg = {"tokenizer_class": "BertTokenizer", "do_lower_case": True, "model_max_length": 512,
           "pad_token": "[PAD]", "unk_token": "[UNK]", "cls_token": "[CLS]", "sep_token": "[SEP]",
           "mask_token": "[MASK]", "clean_up_tokenization_spaces": True}
    write(out_dir, tok, cfg)
    with open(os.path.join(out_dir, "vocab.txt"), "w") as f:
        f.write("\n".join(sorted(vocab, key=vocab.get)) + "\n")
    return len(vocab)


# ------------------------------------------------------------------------------------------------ words
# The extension's word splitter (src/engine/words.ts WORD_PATTERN), for the tokenizers library's regex: runs of
# letters/digits with their combining marks (\p{M}: decomposed accents, Indic vowel signs), inner apostrophes,
# else one character with its marks; a Han character is a word of its own (as BERT splits Chinese and kanji;
# [^\P{L}\p{Han}] is a letter that is not Han). Without marks or Han (plain English) it splits as
# [\p{L}\p{N}]+(?:['’]\p{L}+)* did.
WORD_SPLIT = (r"\p{Han}\p{M}*|(?:[^\P{L}\p{Han}]|\p{N})(?:[^\P{L}\p{Han}]|\p{N}|\p{M})*"
              r"(?:['\u2019][^\P{L}\p{Han}](?:[^\P{L}\p{Han}]|\p{M})*)*|[^\s\p{L}\p{N}]\p{M}*")


def build_wordlevel(words_txt, out_dir, vocab_size, lowercase=True):
    counts = collections.Counter()
    with open(words_txt) as f:
        for line in f:
            counts.update(w.lower() if lowercase else w for w in line.split())
    specials = ["<pad>", "<unk>", "<S>", "</S>"]
    vocab = {s: i for i, s in enumerate(specials)}
    for w, _ in counts.most_common(vocab_size - len(specials)):
        vocab.setdefault(w, len(vocab))
    tok = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added(i, s) for i, s in enumerate(specials)],
        "normalizer": {"type": "Lowercase"} if lowercase else None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "WhitespaceSplit"},
            {"type": "Split", "pattern": {"Regex": WORD_SPLIT}, "behavior": "Isolated", "invert": False}]},
        "post_processor": None,
        "decoder": None,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "<unk>"},
    }
    cfg = {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 1024, "unk_token": "<unk>",
           "pad_token": "<pad>", "bos_token": "<S>", "eos_token": "</S>"}
    write(out_dir, tok, cfg)
    total = sum(counts.values())
    covered = sum(counts[w] for w in vocab if w in counts)
    log(f"tokenizers: word vocab {len(vocab)} covers {covered / max(total, 1):.3f} of {total} running words")
    return vocab, counts


def write(out_dir, tok, cfg):
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "tokenizer.json"), "w") as f:
        json.dump(tok, f, ensure_ascii=False)
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
