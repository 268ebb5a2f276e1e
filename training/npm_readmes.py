"""npm packages' READMEs as modern English: Markdown written to explain software to people, what LM Lens's users hover.

Two steps, so that a rebuild reads exactly the text the models were trained on:
- `--crawl N` walks npm's dependency graph breadth-first from seed packages (the names in this repository's lock
  files, then SEEDS), reading each package's latest version manifest; a permissively licensed package (PERMISSIVE,
  SPDX expressions included) whose tarball (<= MAX_TARBALL bytes) holds a README with at least MIN_WORDS words of
  English prose after cleaning is kept, until N packages are. It writes `npm-readmes.tsv` (name, version, licence,
  the tarball's sha512 integrity), which is committed: an npm version never changes once published.
- `--fetch` (run.py's inputs stage) downloads the tarballs the list names, checks each against its integrity and
  keeps the README as `npm-readmes/<name>.md` (not committed, like `deb/`).

`paragraphs(text)` is the Markdown reader corpus.py uses: prose paragraphs and list items, without code blocks, tables,
HTML, images, badges or link targets. Written by hand because no Debian or npm package here turns Markdown into plain
prose paragraphs (`python3-markdown` renders HTML, whose blocks would then need this file's rules again).
"""
import argparse
import base64
import concurrent.futures as cf
import hashlib
import io
import json
import os
import re
import tarfile
import urllib.parse
import urllib.request
from collections import deque

from common import TRAINING_DIR, WORD, log

REGISTRY = "https://registry.npmjs.org"
LIST = os.path.join(TRAINING_DIR, "npm-readmes.tsv")
CACHE = os.path.join(TRAINING_DIR, "npm-readmes")
MAX_TARBALL = 3 << 19  # 1.5 MiB: larger tarballs are mostly bundles and binaries, and slow the walk
MIN_WORDS = 150
# At most this many packages of one scope: @stdlib alone publishes thousands of near-identical READMEs ("the method
# returns ..."), which would crowd out everything else.
MAX_PER_SCOPE = 40
PERMISSIVE = {"MIT", "ISC", "BSD-2-Clause", "BSD-3-Clause", "Apache-2.0", "0BSD", "CC0-1.0", "Unlicense", "MIT-0",
              "BlueOak-1.0.0", "Zlib", "Python-2.0", "CC-BY-4.0", "CC-BY-3.0", "WTFPL", "BSD"}
# Well-known packages of every corner of the ecosystem (frameworks, build tools, test runners, CLIs, utilities), so the
# walk does not stay inside the few trees this repository depends on.
SEEDS = """react react-dom vue svelte @angular/core preact solid-js next nuxt gatsby astro express koa fastify hapi
nest @nestjs/core socket.io ws axios node-fetch got superagent request lodash underscore ramda rxjs immutable moment
dayjs date-fns luxon chalk commander yargs inquirer ora debug dotenv cross-env nodemon pm2 webpack rollup vite parcel
esbuild @babel/core typescript ts-node eslint prettier stylelint jest mocha chai sinon ava vitest cypress puppeteer
playwright jsdom cheerio marked markdown-it remark unified highlight.js prismjs d3 chart.js three leaflet mapbox-gl
redux mobx zustand graphql apollo-server @apollo/client mongoose sequelize typeorm prisma knex pg mysql2 sqlite3 redis
ioredis uuid nanoid bcrypt jsonwebtoken passport helmet cors body-parser multer sharp jimp pdfkit xlsx papaparse
ajv joi yup zod class-validator semver glob minimatch chokidar fs-extra rimraf mkdirp del execa shelljs concurrently
husky lint-staged commitizen semantic-release lerna nx turbo yeoman-generator handlebars ejs pug nunjucks mustache
sass less postcss tailwindcss autoprefixer bootstrap bulma styled-components emotion classnames clsx framer-motion
electron socket.io-client bluebird async q co p-limit p-queue eventemitter3 immer reselect formik react-hook-form
react-router vue-router i18next intl-messageformat numeral accounting bignumber.js decimal.js mathjs validator
winston pino bunyan morgan http-proxy http-server serve live-server browser-sync compression cookie-parser
express-session connect-redis nodemailer twilio stripe aws-sdk @aws-sdk/client-s3 firebase googleapis openai
highland through2 readable-stream split2 csv-parse xml2js fast-xml-parser js-yaml toml ini yaml archiver tar jszip
adm-zip node-cron agenda bull bullmq kue ffmpeg-static fluent-ffmpeg canvas node-canvas qrcode jsbarcode sanitize-html
dompurify xss he entities iconv-lite string-width strip-ansi wrap-ansi boxen cli-table3 listr2 enquirer prompts
blessed ink meow cac oclif vorpal clipanion tsup tsx swc @swc/core terser uglify-js babel-loader css-loader
style-loader html-webpack-plugin webpack-dev-server storybook @storybook/react gulp grunt browserify karma
protractor nightwatch webdriverio selenium-webdriver supertest nock msw faker @faker-js/faker chance json-server
lowdb nedb pouchdb rxdb dexie localforage idb-keyval workbox-core socket.io-redis mqtt amqplib kafkajs zeromq
""".split()
STOP = set("the a an of to and in is it that for on with as be are this by or from at can you your if not".split())


def permissive(lic):
    """An SPDX licence or expression whose terms allow training on the text: every AND part, some OR part."""
    if isinstance(lic, dict):
        lic = lic.get("type")
    if not isinstance(lic, str):
        return False
    expr = lic.strip().strip("()")
    if " AND " in expr:
        return all(permissive(p) for p in expr.split(" AND "))
    if " OR " in expr:
        return any(permissive(p) for p in expr.split(" OR "))
    return expr.strip("() ") in PERMISSIVE


# --- Markdown to prose paragraphs -------------------------------------------------------------------------------
FENCE = re.compile(r"^\s{0,3}(```|~~~)")
HTML_BLOCK = re.compile(r"<(pre|code|table|script|style|svg|details|summary)\b.*?</\1>", re.S | re.I)
HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
TAG = re.compile(r"</?[A-Za-z][^>]*>")
IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)|!\[[^\]]*\]\[[^\]]*\]")
LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\[[^\]]*\]")
LINK_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*\S+")
URL = re.compile(r"<?https?://\S+>?")
LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
SETEXT = re.compile(r"^\s*(=+|-+)\s*$")


def inline(text):
    text = IMAGE.sub("", text)
    text = LINK.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), text)
    text = URL.sub("", text)
    text = TAG.sub("", text)
    text = re.sub(r"`+([^`]*)`+", r"\1", text)  # code spans keep their text: "call foo() to" stays a sentence
    text = re.sub(r"(\*\*|__|\*|~~)(?=\S)(.+?)(?<=\S)\1", r"\2", text)
    text = re.sub(r"(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)", r"\1", text)
    text = text.replace("&nbsp;", " ").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    return " ".join(text.split())


def prose(p):
    """A paragraph of English sentences: 8+ words, a fifth or more of them function words, letters the bulk of it,
    ending as a sentence does (headings, option lists, API signatures and non-English text fail)."""
    words = WORD.findall(p)
    if len(words) < 8 or sum(w.lower() in STOP for w in words) < 0.2 * len(words):
        return False
    if sum(c.isalpha() or c == " " for c in p) < 0.8 * len(p):
        return False
    return p.rstrip()[-1:] in ".!?:)\"'"


def paragraphs(text):
    """The prose paragraphs (and list items) of a Markdown README, inline markup removed."""
    text = HTML_COMMENT.sub("", text.replace("\r\n", "\n"))
    text = HTML_BLOCK.sub("\n\n", text)
    out, cur, fenced = [], [], False

    def flush():
        if cur:
            p = inline(" ".join(cur))
            if prose(p):
                out.append(p)
            cur.clear()

    for line in text.split("\n"):
        if FENCE.match(line):
            fenced = not fenced
            flush()
            continue
        if fenced:
            continue
        s = line.strip()
        if (not s or line.startswith(("    ", "\t")) or s.startswith(("#", "|", ">", "[!")) or LINK_DEF.match(line)
                or SETEXT.match(line)):
            flush()  # blank lines, indented code, headings, tables, quotes and admonitions end a paragraph
            continue
        if LIST_ITEM.match(line):
            flush()
            line = LIST_ITEM.sub("", line)
        cur.append(line.strip())
    flush()
    return out


def prose_words(text):
    return sum(len(WORD.findall(p)) for p in paragraphs(text))


# --- the registry --------------------------------------------------------------------------------------------------
def get(url, limit=None):
    req = urllib.request.Request(url, headers={"User-Agent": "lm-lens-training"})
    with urllib.request.urlopen(req, timeout=30) as r:
        if limit and int(r.headers.get("Content-Length") or 0) > limit:
            return None
        data = r.read(limit + 1 if limit else -1)
        return None if limit and len(data) > limit else data


def manifest(name):
    try:
        return json.loads(get(f"{REGISTRY}/{urllib.parse.quote(name, safe='@')}/latest"))
    except Exception:
        return None


def readme_of(tgz):
    """The README at the package's top level (package/README.md or any case of it; .markdown and plain too)."""
    with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tf:
        for m in tf:
            parts = m.name.split("/")
            if m.isfile() and len(parts) == 2 and re.fullmatch(r"readme(\.md|\.markdown|\.txt)?", parts[1], re.I):
                return tf.extractfile(m).read().decode("utf-8", "replace")
    return None


def verified(data, integrity):
    algo, _, digest = integrity.partition("-")
    return base64.b64encode(hashlib.new(algo, data).digest()).decode() == digest


def cache_path(name):
    return os.path.join(CACHE, name.replace("/", "__") + ".md")


def visit(name):
    """(manifest, readme text or None, its prose words, why not kept) for one package's latest version."""
    m = manifest(name)
    if not m or "dist" not in m:
        return None, None, 0, "no manifest"
    if not permissive(m.get("license")):
        return m, None, 0, "licence"
    try:
        tgz = get(m["dist"]["tarball"], MAX_TARBALL)
    except Exception:
        return m, None, 0, "download"
    if tgz is None:
        return m, None, 0, "size"
    integrity = m["dist"].get("integrity")
    if not integrity or not verified(tgz, integrity):
        return m, None, 0, "integrity"
    text = readme_of(tgz)
    words = prose_words(text) if text else 0
    if words < MIN_WORDS:
        return m, None, words, "short"
    return m, text, words, ""


def seeds():
    names = []
    for lock in (os.path.join(TRAINING_DIR, "..", "package-lock.json"), os.path.join(TRAINING_DIR, "package-lock.json")):
        for key in json.load(open(lock)).get("packages", {}):
            if "node_modules/" in key:
                names.append(key.rsplit("node_modules/", 1)[1])
    return list(dict.fromkeys(SEEDS + names))


def write_list(kept):
    with open(LIST + ".part", "w") as f:
        f.write("# name\tversion\tlicence\tintegrity (written by npm_readmes.py --crawl; see its docstring)\n")
        for row in sorted(kept):
            f.write("\t".join(row) + "\n")
    os.replace(LIST + ".part", LIST)


def scope(name):
    return name.split("/")[0] if name.startswith("@") else None


def crawl(n, threads, max_words):
    os.makedirs(CACHE, exist_ok=True)
    queue, seen, kept, why, per_scope = deque(seeds()), set(), [], {}, {}
    seen.update(queue)
    words = 0
    with cf.ThreadPoolExecutor(threads) as pool:
        running = {}
        while (queue or running) and len(kept) < n and words < max_words:
            while queue and len(running) < threads * 2:  # a rolling window: a slow download holds up no one else
                name = queue.popleft()
                if scope(name) and per_scope.get(scope(name), 0) >= MAX_PER_SCOPE:
                    continue
                running[pool.submit(visit, name)] = name
            finished, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            for fut in finished:
                name = running.pop(fut)
                m, text, text_words, reason = fut.result()
                if m:
                    for field in ("dependencies", "peerDependencies", "devDependencies"):
                        for dep in (m.get(field) or {}):
                            if dep not in seen and isinstance(dep, str):
                                seen.add(dep)
                                queue.append(dep)
                if reason:
                    why[reason] = why.get(reason, 0) + 1
                    continue
                if len(kept) >= n or words >= max_words or per_scope.get(scope(name), 0) >= MAX_PER_SCOPE:
                    continue
                if scope(name):
                    per_scope[scope(name)] = per_scope.get(scope(name), 0) + 1
                lic = m["license"] if isinstance(m["license"], str) else m["license"].get("type")
                kept.append((name, m["version"], lic, m["dist"]["integrity"]))
                open(cache_path(name), "w", encoding="utf-8").write(text)
                words += text_words
                if len(kept) % 200 == 0:
                    log(f"npm-readmes: {len(kept)} kept, {sum(why.values())} not ({why}), {len(queue)} queued, "
                        f"{words:,} words")
                    write_list(kept)  # as it goes: a long walk stopped keeps what it found
        for fut in running:
            fut.cancel()
    write_list(kept)
    log(f"npm-readmes: {len(kept)} packages, {words:,} prose words -> {LIST}")


def listed():
    rows = []
    for line in open(LIST):
        if line.strip() and not line.startswith("#"):
            rows.append(line.rstrip("\n").split("\t"))
    return rows


def fetch(threads):
    """Every README of the list in CACHE, each tarball checked against its integrity."""
    os.makedirs(CACHE, exist_ok=True)
    todo = [r for r in listed() if not os.path.exists(cache_path(r[0]))]

    def one(row):
        name, version, _, integrity = row
        base = name.rsplit("/", 1)[-1]
        tgz = get(f"{REGISTRY}/{name}/-/{base}-{version}.tgz")
        if not verified(tgz, integrity):
            raise SystemExit(f"npm-readmes: {name}@{version} does not match its integrity in {LIST}")
        tmp = cache_path(name) + ".part"
        open(tmp, "w", encoding="utf-8").write(readme_of(tgz))
        os.rename(tmp, cache_path(name))

    if todo:
        log(f"npm-readmes: fetching {len(todo)} of {len(listed())} READMEs")
        with cf.ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, todo))


def readmes():
    """The cached READMEs in the list's order (run.py's inputs stage fetched them)."""
    for name, *_ in listed():
        path = cache_path(name)
        if not os.path.exists(path):
            raise SystemExit(f"corpus: {path} is missing; run training/run.py from the inputs stage")
        yield name, open(path, encoding="utf-8").read()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--crawl", type=int, help="walk the registry until this many packages are kept; rewrite the list")
    ap.add_argument("--words", type=int, default=10**9, help="--crawl stops once the kept READMEs hold this many "
                    "prose words")
    ap.add_argument("--fetch", action="store_true", help="download the listed READMEs that are not cached")
    ap.add_argument("--threads", type=int, default=16)
    a = ap.parse_args()
    if a.crawl:
        crawl(a.crawl, a.threads, a.words)
    if a.fetch:
        fetch(a.threads)
