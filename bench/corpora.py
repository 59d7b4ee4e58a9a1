#!/usr/bin/env python3
"""Builds the benchmark corpora from real text: one post per line, in two forms per corpus.

    python3 bench/corpora.py [--out build/bench-corpora] [--only prose,tweets]

Writes NAME.txt (one post per line, the form `modfilter scan --format text` reads) and NAME.jsonl
({"id": N, "text": ...}, ensure_ascii=False) for each corpus, plus MANIFEST.tsv. Both forms hold
exactly the same post texts: line breaks inside a post (CR, LF) become spaces in both, so a
figure measured on one form compares with the other. Every choice is seeded, so two runs on the
same inputs write the same bytes.

Sources are read at run time, never copied into the repository. The shared data directory is
$MF_SHARED (default: <repo>/../shared):

  prose     $MF_SHARED/domain/*.txt: English forum threads of community managers (about 110 KB).
            Whitespace runs collapse to one space; posts of 100 B to 2 KB are cut at random
            offsets, snapped to word boundaries, until the corpus holds about 20 MB.
  tweets    $MF_SHARED/data/davidson-hate-offensive/labeled_data.csv (column tweet), then
            $MF_SHARED/data/olid-train/olid-training-v1.0.tsv (column tweet), in file order.
  comments  $MF_SHARED/data/toxic-spans-train/tsd_train.csv (column text), in file order.
  sms       $MF_SHARED/data/sms-spam-collection/SMSSpamCollection (label<TAB>text), in file order.
  replies   $MF_SHARED/data/promise-dev/agent_turns.jsonl (field text): customer-support agent
            replies, in file order.
  mixed     Translated user-interface strings of the programs installed on this machine:
            /usr/share/locale/*/LC_MESSAGES/*.mo, decoded with msgunfmt (GNU gettext). Only
            msgstr values (the translations; plural forms included) are used, never the header
            entry nor empty strings. Every locale directory present is used (Latin, Cyrillic,
            Greek, Arabic, Hebrew, Indic, Thai, CJK... whatever the machine has), each with an
            equal share of the ~10 MB budget (what small locales leave goes to the larger ones):
            catalogues of one locale are visited in a seeded order, and consecutive strings of
            one catalogue are joined into posts of 100 B to 2 KB. The posts of all locales are then shuffled with a fixed seed. The content
            depends on the packages installed, so compare figures of this corpus only between
            runs on the same machine.
  technical Developers' writing installed on this machine: the paragraphs (runs of lines between
            blank lines, white space collapsed) of 100 B to 2 KB of /usr/share/doc's changelogs
            (*.gz), READMEs, NEWS, TODO, *.txt and *.md that are UTF-8, each once, shuffled with a
            fixed seed, up to ~64 MB (about 60 MB here): file names, version numbers, code, commit logs and authors'
            names, the text of a developer forum that a filter must leave alone. The content
            depends on the packages installed, as for mixed.

The small corpora (tweets, comments, sms, replies) hold from a few hundred KB to a few MB; the
benchmarks loop over them (bench_scan) or repeat them up to a minimum size (bench/compare.sh), so
their timings are still meaningful. A corpus whose source is missing is skipped with a message.
"""
import argparse
import csv
import glob
import gzip
import json
import os
import random
import re
import shutil
import subprocess
import sys
import zlib

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MIN_POST = 100
MAX_POST = 2048
PROSE_BYTES = 20 << 20
MIXED_BYTES = 10 << 20
LOCALE_DIR = "/usr/share/locale"
DOCS_DIR = "/usr/share/doc"
TECHNICAL_BYTES = 64 << 20


def shared_dir():
    return os.environ.get("MF_SHARED") or os.path.join(REPO, "..", "shared")


class Missing(Exception):
    """A corpus source is not there: the corpus is skipped."""


def need(path):
    if not os.path.exists(path):
        raise Missing(f"{path} not found")
    return path


def one_line(text):
    """A post as one line: CR and LF become spaces (other characters are kept as they are)."""
    return text.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")


def snap_start(data, pos):
    """First byte of the word at or after pos (a word starts after a space)."""
    sp = data.find(b" ", pos)
    if pos == 0 or data[pos - 1:pos] == b" ":
        return pos
    return sp + 1 if sp != -1 else len(data)


def snap_end(data, start, end):
    """Last word boundary at or before end; inside one long word, the last UTF-8 char boundary."""
    end = min(end, len(data))
    if end == len(data):
        return end
    sp = data.rfind(b" ", start, end + 1)
    if sp > start:
        return sp
    while end > start and (data[end] & 0xC0) == 0x80:
        end -= 1
    return end


def prose():
    files = sorted(glob.glob(os.path.join(need(os.path.join(shared_dir(), "domain")), "*.txt")))
    if not files:
        raise Missing(f"no *.txt in {os.path.join(shared_dir(), 'domain')}")
    text = " ".join(open(f, encoding="utf-8", errors="replace").read() for f in files)
    data = re.sub(r"\s+", " ", text).strip().encode("utf-8")
    rng = random.Random(20240611)
    posts, total = [], 0
    while total < PROSE_BYTES:
        size = rng.randint(MIN_POST, MAX_POST)
        start = snap_start(data, rng.randrange(0, max(1, len(data) - MIN_POST)))
        end = snap_end(data, start, start + size)
        post = data[start:end].strip()
        if len(post) < MIN_POST // 2:  # near the end of the text: draw again
            continue
        posts.append(post.decode("utf-8"))
        total += len(post)
    return posts


def csv_column(path, column, delimiter=","):
    csv.field_size_limit(1 << 24)
    with open(need(path), encoding="utf-8", errors="replace", newline="") as f:
        return [row[column] for row in csv.DictReader(f, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL
                                                     if delimiter == "," else csv.QUOTE_NONE)]


def tweets():
    d = os.path.join(shared_dir(), "data")
    return (csv_column(os.path.join(d, "davidson-hate-offensive", "labeled_data.csv"), "tweet") +
            csv_column(os.path.join(d, "olid-train", "olid-training-v1.0.tsv"), "tweet", "\t"))


def comments():
    return csv_column(os.path.join(shared_dir(), "data", "toxic-spans-train", "tsd_train.csv"), "text")


def sms():
    path = need(os.path.join(shared_dir(), "data", "sms-spam-collection", "SMSSpamCollection"))
    with open(path, encoding="utf-8", errors="replace") as f:
        return [line.rstrip("\r\n").split("\t", 1)[1] for line in f if "\t" in line]


def replies():
    path = need(os.path.join(shared_dir(), "data", "promise-dev", "agent_turns.jsonl"))
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f if line.strip()]


_PO_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b",
               "f": "\f", "v": "\v"}


def po_unquote(s):
    """The value of one PO string literal (without its quotes), C escapes decoded."""
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            if n in _PO_ESCAPES:
                out.append(_PO_ESCAPES[n])
                i += 2
                continue
            m = re.match(r"[0-7]{1,3}", s[i + 1:])
            if m:
                out.append(chr(int(m.group(0), 8)))
                i += 1 + len(m.group(0))
                continue
        out.append(c)
        i += 1
    return "".join(out)


def po_translations(po):
    """msgstr values of a PO file's text (msgstr and msgstr[N]), in order; the header entry
    (msgid "") and empty translations are left out."""
    out, msgid, key, cur = [], None, None, []

    def flush():
        if key and key.startswith("msgstr") and msgid != "":
            value = "".join(cur)
            if value.strip():
                out.append(value)

    for line in po.splitlines():
        line = line.strip()
        if line.startswith('"') and key:
            cur.append(po_unquote(line[1:-1]))
            continue
        m = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+"(.*)"$', line)
        if not m:
            continue
        flush()
        if key == "msgid":
            msgid = "".join(cur)
        key, cur = m.group(1), [po_unquote(m.group(2))]
        if key == "msgctxt":
            msgid = None
    flush()
    return out


def msgunfmt(path):
    """The PO text of one .mo catalogue, decoded with the charset its header declares."""
    raw = subprocess.run(["msgunfmt", path], capture_output=True, check=False).stdout
    m = re.search(rb"charset=([A-Za-z0-9_.:-]+)", raw[:4000])
    charset = m.group(1).decode() if m else "utf-8"
    try:
        return raw.decode(charset, errors="replace")
    except LookupError:
        return raw.decode("utf-8", errors="replace")


def mixed():
    if shutil.which("msgunfmt") is None:
        raise Missing("msgunfmt not found (install gettext: apt-get install gettext)")
    locales = sorted(d for d in os.listdir(need(LOCALE_DIR))
                     if glob.glob(os.path.join(LOCALE_DIR, d, "LC_MESSAGES", "*.mo")))
    if not locales:
        raise Missing(f"no {LOCALE_DIR}/*/LC_MESSAGES/*.mo")
    # Locales with the least text first; each takes an equal share of what is left, so the
    # budget that small locales cannot fill goes to the larger ones.
    def mo_bytes(loc):
        return sum(os.path.getsize(p) for p in glob.glob(os.path.join(LOCALE_DIR, loc, "LC_MESSAGES", "*.mo")))

    locales.sort(key=lambda loc: (mo_bytes(loc), loc))
    posts, total = [], 0
    for k, loc in enumerate(locales):
        budget = (MIXED_BYTES - total) // (len(locales) - k)
        rng = random.Random(f"mixed:{loc}")
        catalogues = sorted(glob.glob(os.path.join(LOCALE_DIR, loc, "LC_MESSAGES", "*.mo")))
        rng.shuffle(catalogues)
        used = 0
        for mo in catalogues:
            if used >= budget:
                break
            post, target = "", rng.randint(MIN_POST, MAX_POST)
            for s in po_translations(msgunfmt(mo)):
                s = re.sub(r"\s+", " ", s).strip()
                if not s:
                    continue
                post = f"{post} {s}" if post else s
                if len(post.encode("utf-8")) >= target:
                    posts.append(post)
                    used += len(post.encode("utf-8"))
                    post, target = "", rng.randint(MIN_POST, MAX_POST)
                    if used >= budget:
                        break
            if post and len(post.encode("utf-8")) >= MIN_POST and used < budget:
                posts.append(post)
                used += len(post.encode("utf-8"))
        total += used
    random.Random(31337).shuffle(posts)
    return posts


def technical():
    paras = []
    for f in sorted(glob.glob(os.path.join(need(DOCS_DIR), "**", "*"), recursive=True)):
        name = os.path.basename(f)
        try:
            if not os.path.isfile(f):
                continue
            if name.endswith(".gz"):
                with gzip.open(f) as g:
                    data = g.read()
            elif re.search(r"(README|NEWS|TODO|\.txt|\.md)$", name):
                with open(f, "rb") as g:
                    data = g.read()
            else:
                continue
            text = data.decode("utf-8")
        except (OSError, EOFError, zlib.error, UnicodeDecodeError):
            continue
        for p in re.split(r"\n\s*\n", text):
            p = " ".join(p.split())
            if MIN_POST <= len(p.encode("utf-8")) <= MAX_POST:
                paras.append(p)
    if not paras:
        raise Missing(f"no text under {DOCS_DIR}")
    paras = list(dict.fromkeys(paras))
    random.Random("technical").shuffle(paras)
    posts, total = [], 0
    for p in paras:
        if total >= TECHNICAL_BYTES:
            break
        posts.append(p)
        total += len(p.encode("utf-8"))
    return posts


CORPORA = {"prose": prose, "tweets": tweets, "comments": comments, "sms": sms, "replies": replies,
           "mixed": mixed, "technical": technical}


def write(out, name, posts):
    posts = [p for p in (one_line(p).strip() for p in posts) if p]
    with open(os.path.join(out, name + ".txt"), "w", encoding="utf-8", newline="\n") as t, \
            open(os.path.join(out, name + ".jsonl"), "w", encoding="utf-8", newline="\n") as j:
        for i, p in enumerate(posts, 1):
            t.write(p + "\n")
            j.write(json.dumps({"id": i, "text": p}, ensure_ascii=False) + "\n")
    sizes = [len(p.encode("utf-8")) for p in posts]
    non_ascii = sum(1 for p in posts if not p.isascii())
    return len(posts), sum(sizes), non_ascii


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join("build", "bench-corpora"),
                    help="output directory (default: build/bench-corpora)")
    ap.add_argument("--only", default="", help="comma-separated corpus names (default: all)")
    args = ap.parse_args()
    names = [n for n in args.only.split(",") if n] or list(CORPORA)
    for n in names:
        if n not in CORPORA:
            ap.error(f"unknown corpus {n!r} (known: {', '.join(CORPORA)})")
    os.makedirs(args.out, exist_ok=True)
    rows = []
    for name in names:
        try:
            posts = CORPORA[name]()
        except Missing as e:
            print(f"skipping {name}: {e}", file=sys.stderr)
            continue
        rows.append((name,) + write(args.out, name, posts))
    manifest = os.path.join(args.out, "MANIFEST.tsv")
    known = {}  # corpora built by an earlier run (--only) stay listed
    if os.path.exists(manifest):
        with open(manifest, encoding="utf-8") as m:
            for line in list(m)[1:]:
                f = line.rstrip("\n").split("\t")
                if len(f) == 4 and os.path.exists(os.path.join(args.out, f[0] + ".txt")):
                    known[f[0]] = line
    for r in rows:
        known[r[0]] = "\t".join(map(str, r)) + "\n"
    with open(manifest, "w", encoding="utf-8") as m:
        m.write("corpus\tposts\tbytes\tnon_ascii_posts\n")
        m.writelines(known[n] for n in CORPORA if n in known)
    print(f"corpora in {args.out} (shared data: {os.path.abspath(shared_dir())})")
    print(f"{'corpus':<10} {'posts':>9} {'bytes':>12} {'mean B':>8} {'non-ASCII':>10}")
    for name, n, size, non_ascii in rows:
        print(f"{name:<10} {n:>9} {size:>12} {size / max(n, 1):>8.0f} {100 * non_ascii / max(n, 1):>9.1f}%")
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
