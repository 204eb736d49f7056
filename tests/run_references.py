#!/usr/bin/python3
"""run_references.py - nothing in the repository points at a file it does not contain.

Every tracked file (`git ls-files` when the source directory is a git checkout, else every
file under it but build*/ and .git/) is read as text (binary files are skipped) and fails
when it:

- names a document that is not in the repository: a folder `shared/` beside it, or the
  names FORBIDDEN lists (a terminology table, an EHR-shapes note, an interface, design or
  style note, a CDS Hooks note, a sandbox driver), or cites guidance by a document number
  ("seed 000", "seeds 001, 004", "Seeds 000/002"; the fuzzers' seeds, which have no
  three-digit number, are not such a citation);
- names `RULES.md` outside docs/ without its folder (docs/RULES.md is the one there is);
- names a repository path (`docs/INSTALL.md`, `src/fhir/ref.c`, `hooks/services/*.json`)
  that does not exist; a `*` or `<name>` in it must match at least one file;
- follows `docs/NAME.md` with a quoted section ("How the facts are read") that is not a
  heading of that file;
- in a Markdown file, has a relative link `[text](path)`, `[text](path#anchor)`,
  `[text](#anchor)` or `[label]: path` whose file does not exist, or whose anchor is not
  the GitHub anchor of a heading of the target file (anchors are checked, code blocks and
  inline code are not links).

Usage: run_references.py --src SOURCE_DIR
Prints one line per finding (or per clean check) and, last, exactly "N passed, M failed";
exits 1 on failure.
"""
import argparse
import fnmatch
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Results  # noqa: E402

SELF = "tests/run_references.py"

# Names of documents that live outside the repository, found anywhere in a file.
FORBIDDEN = [
    (re.compile(r"\.\./shared\b"), "../shared"),
    (re.compile(r"(?<![\w.-])shared/"), "shared/"),
    (re.compile(r"CODES\.md", re.I), "CODES.md"),
    (re.compile(r"EHR-SHAPES", re.I), "EHR-SHAPES"),
    (re.compile(r"INTERFACE\.md", re.I), "INTERFACE.md"),
    (re.compile(r"DESIGN\.md", re.I), "DESIGN.md"),
    (re.compile(r"STYLE\.md", re.I), "STYLE.md"),
    (re.compile(r"CDS-HOOKS(-\d+)?\.md", re.I), "CDS-HOOKS.md"),
    (re.compile(r"LIBRARIES\.md", re.I), "LIBRARIES.md"),
    (re.compile(r"tools/sandbox", re.I), "tools/sandbox"),
    (re.compile(r"\bdrive\.js\b", re.I), "drive.js"),
    # guidance cited by document number: "seed 000", "seeds 001, 004", "Seeds 000/002"
    (re.compile(r"\bseeds?\s+0\d\d\b", re.I), "a guidance document by number"),
]

BARE_RULES = re.compile(r"(?<![\w/.-])RULES\.md")

TOP = ("bench", "config", "deploy", "docs", "fixtures", "fuzz", "hooks", "include",
       "scripts", "src", "tests")
# A repository path named in text: a top-level folder, then at least one more part.
PATH_RE = re.compile(r"(?<![\w./<-])((?:%s)/[\w.*<>/-]*[\w*>/])" % "|".join(TOP))
# docs/NAME.md followed by a quoted section, as comments and notes cite them.
SECTION_RE = re.compile(r"\b(docs/[\w-]+\.md)[,:]?\s*\(?\\?[\"']([^\"'\\]+)\\?[\"']")
LINK_RE = re.compile(r"(?<!!)\[[^\]\n]*\]\(\s*<?([^()\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
IMAGE_RE = re.compile(r"!\[[^\]\n]*\]\(\s*<?([^()\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFDEF_RE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s+<?(\S+?)>?(?:\s+.*)?$", re.M)
SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def tracked_files(src):
    try:
        top = subprocess.run(["git", "-C", src, "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True, check=True).stdout.strip()
        if os.path.realpath(top) == os.path.realpath(src):
            out = subprocess.run(["git", "-C", src, "ls-files", "-z"], capture_output=True,
                                 check=True).stdout.decode()
            return sorted(f for f in out.split("\0") if f and os.path.isfile(os.path.join(src, f)))
    except (OSError, subprocess.CalledProcessError):
        pass
    found = []
    for root, dirs, files in os.walk(src):
        rel = os.path.relpath(root, src)
        dirs[:] = [d for d in dirs if d != ".git" and not (rel == "." and d.startswith("build"))]
        for f in files:
            found.append(os.path.normpath(os.path.join(rel, f)))
    return sorted(found)


def read_text(path):
    with open(path, "rb") as fh:
        data = fh.read()
    if b"\0" in data[:8192]:
        return None
    return data.decode("utf-8", errors="replace")


def joined(text):
    """The text with comment continuations folded, so that a citation broken over two
    comment lines ("docs/RULES.md \"How the facts are\n * read\"") reads as one line."""
    return re.sub(r"[ \t]*\n[ \t]*(?:\*(?!/)|#|//)?[ \t]*", " ", text)


def line_of(text, pos):
    return text.count("\n", 0, pos) + 1


def strip_code(md, inline=True):
    """Markdown with fenced blocks blanked and, when inline, inline code too (newlines
    kept)."""
    out, fence = [], None
    for line in md.split("\n"):
        m = re.match(r"^\s*(```|~~~)", line)
        if fence:
            if m and m.group(1) == fence:
                fence = None
            out.append("")
            continue
        if m:
            fence = m.group(1)
            out.append("")
            continue
        out.append(re.sub(r"`[^`]*`", lambda c: " " * len(c.group(0)), line) if inline else line)
    return "\n".join(out)


def slug(heading):
    """GitHub's anchor of a heading: lower case, markup and punctuation dropped, spaces to
    hyphens."""
    h = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    h = h.strip().lower().replace("`", "")
    h = re.sub(r"[^\w\- ]", "", h)
    return h.replace(" ", "-")


def headings(md):
    """(titles, anchors) of a Markdown text, code blocks left out."""
    titles, anchors, seen = set(), set(), {}
    for line in strip_code(md, inline=False).split("\n"):
        m = re.match(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        title = m.group(1)
        titles.add(title.replace("`", ""))
        s = slug(title)
        n = seen.get(s, 0)
        seen[s] = n + 1
        anchors.add(s if n == 0 else f"{s}-{n}")
    return titles, anchors


class Repo:
    def __init__(self, src, files):
        self.src = src
        self.files = set(files)
        self.dirs = {os.path.dirname(f) for f in files}
        for f in list(self.dirs):
            while f:
                f = os.path.dirname(f)
                self.dirs.add(f)
        self.cache = {}

    def exists(self, rel):
        rel = os.path.normpath(rel)
        if rel in self.files or rel in self.dirs:
            return True
        return os.path.exists(os.path.join(self.src, rel))

    def matches(self, path):
        """True when the path exists; a `*`, a `<name>` or, failing that, an upper-case
        placeholder part (`fixtures/cases/NAME.expect.json`) must match some file."""
        path = path.rstrip("/")
        if self.exists(path):
            return True
        for pattern in (re.sub(r"<[^>]*>", "*", path),
                        re.sub(r"(?<=/)[A-Z][A-Z0-9_]*(?=[./]|$)", "*",
                               re.sub(r"<[^>]*>", "*", path))):
            if "*" in pattern and any(fnmatch.fnmatchcase(f, pattern)
                                      for f in self.files | self.dirs):
                return True
        return False

    def headings(self, rel):
        if rel not in self.cache:
            text = read_text(os.path.join(self.src, rel)) if self.exists(rel) else None
            self.cache[rel] = headings(text) if text is not None else (set(), set())
        return self.cache[rel]


def check_forbidden(rel, text, findings):
    for rx, what in FORBIDDEN:
        for m in rx.finditer(text):
            findings.append(f"{rel}:{line_of(text, m.start())}: names {what} "
                            f"({m.group(0)!r}), which is not in the repository")
    if not rel.startswith("docs/"):
        for m in BARE_RULES.finditer(text):
            findings.append(f"{rel}:{line_of(text, m.start())}: names RULES.md without its "
                            "folder (docs/RULES.md)")


def check_paths(repo, rel, text, findings):
    for m in PATH_RE.finditer(text):
        path = m.group(1).rstrip(".")
        if not repo.matches(path):
            findings.append(f"{rel}:{line_of(text, m.start())}: names {path}, which does "
                            "not exist in the repository")
    for m in SECTION_RE.finditer(joined(text)):
        doc, section = m.group(1), m.group(2).strip()
        titles, _ = repo.headings(doc)
        if repo.exists(doc) and section not in titles:
            findings.append(f"{rel}: cites {doc} \"{section}\", which is not a heading of "
                            f"{doc}")


def check_links(repo, rel, text, findings):
    body = strip_code(text)
    here = os.path.dirname(rel)
    targets = [(m.group(1), m.start()) for rx in (LINK_RE, IMAGE_RE, REFDEF_RE)
               for m in rx.finditer(body)]
    for target, pos in targets:
        if SCHEME_RE.match(target) or target.startswith("//"):
            continue
        path, _, anchor = target.partition("#")
        dest = os.path.normpath(os.path.join(here, path)) if path else rel
        where = f"{rel}:{line_of(body, pos)}"
        if dest.startswith("..") or os.path.isabs(path):
            findings.append(f"{where}: link {target} leaves the repository")
            continue
        if not repo.exists(dest):
            findings.append(f"{where}: link {target}: {dest} does not exist")
            continue
        if anchor and dest.endswith(".md"):
            _, anchors = repo.headings(dest)
            if anchor.lower() not in anchors:
                findings.append(f"{where}: link {target}: no heading of {dest} has the "
                                f"anchor #{anchor}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--src", required=True, help="the source directory")
    args = ap.parse_args()
    src = os.path.abspath(args.src)
    files = tracked_files(src)
    repo = Repo(src, files)
    r = Results()
    kinds = {
        "no file names a document outside the repository": [],
        "every repository path and cited section named in a file exists": [],
        "every relative Markdown link and anchor resolves": [],
    }
    found = list(kinds.values())
    texts = mds = 0
    for rel in files:
        if rel == SELF:
            continue
        text = read_text(os.path.join(src, rel))
        if text is None:
            continue
        texts += 1
        check_forbidden(rel, text, found[0])
        check_paths(repo, rel, text, found[1])
        if rel.endswith(".md"):
            mds += 1
            check_links(repo, rel, text, found[2])
    r.check(f"{texts} text files read of {len(files)} tracked ({mds} Markdown)", texts > 0 and mds > 0)
    for kind, findings in kinds.items():
        for f in findings:
            r.check(f, False)
        if not findings:
            r.check(kind, True)
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
