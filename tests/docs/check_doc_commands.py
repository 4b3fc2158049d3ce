#!/usr/bin/python3
"""Run every shell command the documentation shows, as written, so the docs cannot rot.

Reads README.md, docs/*.md and the README.md of each top-level folder, takes every
fenced block marked ```sh, ```bash, ```shell or ```console, and runs each command in
it from the root of a scratch copy of the repository, the way a user would from a fresh
clone after the quick start (scripts/quickstart, scripts/test).

The scratch copy: the repository's files without build/, out/ and .git are copied to a
temporary folder; build/release there is a symlink to the build folder under test
(--build-dir), so `build/release/hmmsim` is the binary just built; ../shared beside the
copy is a symlink to ../shared beside the repository when that exists (CI). Whatever a
command writes (out/..., vadd.hmt, docs/img/...) lands in the copy, which is deleted at
the end: the repository is never written. PATH is left as it is, so a bare `hmmsim`
fails as it does for a user (exit 127), and a bare `hmmsim ...` command is reported as
such.

Rules for the documentation:
- Each line of a block is one command, run by /bin/bash -c from the copy's root, in the
  order shown; a block's commands share the copy, so one may use what an earlier one
  wrote. Lines ending in a backslash are joined with the next. A `#` comment after a
  command is not run. `$ ` before a command is dropped; in a ```console block only the
  `$ ` lines are commands (the rest is output).
- A command must exit 0, or the status its comment states (`# exits 1`, `# exit code 2`).
  Each gets --timeout seconds (default 90).
- The quick start's own steps are not run (the build under test exists): `scripts/quickstart`,
  `scripts/test`, `source scripts/deps.sh`, `hmmsim_install_deps`, `hmmsim_build ...`,
  `cmake ...` and `ctest ...`.
- A block whose previous non-blank line is `<!-- no-test: REASON -->` is not run (installs,
  Slurm, long benchmarks, placeholders). Use it sparingly and say why.
- A ```yaml block whose first line is a comment naming a file (`# configs/my/file.yaml`)
  is written to that path of the copy before the document's commands run, so a command can
  use the file the text just showed.
- The text must not show a bare `hmmsim run|trace|...` in inline code either, nor cite
  notes a clone does not have (`reference/*.md`, `../shared/reference/`): docs/references.md
  lists the public sources.
- A command that names ../shared (in its text or comment, or in a config file it names)
  is skipped with a message when ../shared is absent, and so is the rest of its block.

Exit status: 0 when every command ran and passed, 1 when one failed (each failure is
reported with its file, line, command and output), 77 when none failed but some were
skipped because ../shared is absent (CTest's SKIP_RETURN_CODE).
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SKIP_CODE = 77
SHELL_LANGS = {"sh", "bash", "shell", "console"}
NO_TEST = re.compile(r"^<!--\s*no-test\b(.*?)-->\s*$")
FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([A-Za-z0-9_+-]*)")
SETUP = re.compile(r"^(source\s+scripts/deps\.sh|\.\s+scripts/deps\.sh|hmmsim_install_deps|hmmsim_build"
                   r"|scripts/quickstart|\./scripts/quickstart|scripts/test|\./scripts/test|cmake|ctest)\b")
EXIT_NOTE = re.compile(r"\bexit(?:s|ing)?(?:\s+(?:code|status|with))?\s+(\d+)\b", re.I)
FILE_BLOCK = re.compile(r"^#\s*([A-Za-z0-9_./-]+\.ya?ml)\s*$")
BARE_HMMSIM = re.compile(r"^hmmsim\s")
INLINE_BARE = re.compile(r"^hmmsim\s+(run|trace|sweep|report|-)")
PRIVATE_REF = re.compile(r"(\.\./shared/reference\b|(?<![\w/.-])reference/[\w.-]+\.md)")


class Command:
    def __init__(self, doc, line, text, comment):
        self.doc, self.line, self.text, self.comment = doc, line, text, comment

    def where(self):
        return "%s:%d" % (self.doc, self.line)


class Block:
    def __init__(self, doc, line, lang, no_test):
        self.doc, self.line, self.lang, self.no_test = doc, line, lang, no_test
        self.lines = []  # (line number, text)


def split_comment(line):
    """Splits a shell line into (command, comment) at the first unquoted ` #`."""
    quote = None
    i = 0
    while i < len(line):
        c = line[i]
        if quote:
            if c == "\\" and quote == '"':
                i += 2
                continue
            if c == quote:
                quote = None
        elif c == "\\":
            i += 2
            continue
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip(), line[i + 1:].strip()
        i += 1
    return line.rstrip(), ""


def parse_blocks(doc, text):
    """Fenced blocks of one Markdown file, with the no-test marker before each."""
    blocks, cur, prev = [], None, ""
    for n, raw in enumerate(text.splitlines(), 1):
        if cur is None:
            m = FENCE.match(raw)
            if m:
                marker = NO_TEST.match(prev.strip())
                reason = (marker.group(1).strip(" :") or "no reason given") if marker else None
                cur = Block(doc, n, m.group(3).lower(), reason)
                cur.fence = m.group(2)
                cur.indent = len(m.group(1))
            elif raw.strip():
                prev = raw
        else:
            if raw.strip().startswith(cur.fence[0] * 3) and raw.strip().strip(cur.fence[0]) == "":
                blocks.append(cur)
                cur, prev = None, ""
            else:
                cur.lines.append((n, raw[cur.indent:] if raw[:cur.indent].strip() == "" else raw))
    return blocks


def inline_bare_commands(doc, text):
    """Inline code spans outside fenced blocks that show a command as a bare `hmmsim ...`."""
    found, fence = [], None
    for n, raw in enumerate(text.splitlines(), 1):
        m = FENCE.match(raw)
        if fence is None and m:
            fence = m.group(2)[0] * 3
            continue
        if fence is not None:
            if raw.strip().startswith(fence) and raw.strip().strip(fence[0]) == "":
                fence = None
            continue
        for span in re.finditer(r"(`+)(.+?)\1", raw):
            if INLINE_BARE.match(span.group(2).strip()):
                found.append(("%s:%d" % (doc, n), span.group(2).strip(),
                              "a command in the text names a bare `hmmsim`, which is not on the PATH "
                              "after the quick start: write build/release/hmmsim"))
    return found


def block_commands(block):
    """The commands of a shell block: continuations joined, comments split off."""
    cmds, pending, start = [], "", 0
    for n, raw in block.lines:
        line = raw.rstrip()
        if not pending:
            s = line.lstrip()
            if block.lang == "console":
                if not s.startswith("$ "):
                    continue
                s = s[2:]
            elif s.startswith("$ "):
                s = s[2:]
            if not s or s.startswith("#"):
                continue
            start, line = n, s
        if line.endswith("\\"):
            pending += line[:-1].rstrip() + " "
            continue
        full = pending + line.strip()
        pending = ""
        cmd, comment = split_comment(full)
        if cmd:
            cmds.append(Command(block.doc, start, cmd, comment))
    if pending:
        cmd, comment = split_comment(pending)
        cmds.append(Command(block.doc, start, cmd, comment))
    return cmds


def docs_to_check(repo):
    found = []
    if os.path.isfile(os.path.join(repo, "README.md")):
        found.append("README.md")
    docs = os.path.join(repo, "docs")
    if os.path.isdir(docs):
        found += sorted("docs/" + f for f in os.listdir(docs) if f.endswith(".md"))
    for d in sorted(os.listdir(repo)):
        if d in ("build", "out", "docs") or d.startswith("."):
            continue
        if os.path.isfile(os.path.join(repo, d, "README.md")):
            found.append(d + "/README.md")
    return found


def needs_shared(cmd, root):
    if "../shared" in cmd.text or "../shared" in cmd.comment:
        return True
    for tok in cmd.text.split():
        p = os.path.join(root, tok)
        if tok.endswith((".yaml", ".yml", ".json")) and os.path.isfile(p):
            with open(p, errors="replace") as f:
                if "shared/" in f.read():
                    return True
    return False


def make_copy(repo, build_dir, tmp):
    root = os.path.join(tmp, os.path.basename(os.path.abspath(repo)) or "repo")

    def ignore(d, names):
        if os.path.abspath(d) == os.path.abspath(repo):
            return [n for n in names if n in ("build", "out", ".git")]
        return [n for n in names if n == "__pycache__"]

    shutil.copytree(repo, root, symlinks=True, ignore=ignore)
    os.makedirs(os.path.join(root, "build"))
    os.symlink(os.path.abspath(build_dir), os.path.join(root, "build", "release"))
    shared = os.path.join(os.path.dirname(os.path.abspath(repo)), "shared")
    have_shared = os.path.isdir(shared)
    if have_shared:
        os.symlink(shared, os.path.join(tmp, "shared"))
    return root, have_shared


def run(cmd, root, timeout):
    t0 = time.monotonic()
    p = subprocess.Popen(["/bin/bash", "-c", cmd.text], cwd=root, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
        code = p.returncode
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        code = None
    return code, out.decode(errors="replace"), time.monotonic() - t0


def tail(text, n=40):
    lines = text.rstrip().splitlines()
    return "\n".join(("    " + l) for l in (lines[-n:] if len(lines) > n else lines))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--repo", default=os.path.normpath(os.path.join(here, "..", "..")),
                    help="repository root (default: two levels above this script)")
    ap.add_argument("--build-dir", default=None, help="build folder standing for build/release "
                    "(default: REPO/build/release)")
    ap.add_argument("--timeout", type=float, default=90, help="seconds per command (default 90)")
    ap.add_argument("--list", action="store_true", help="only list the commands and what would happen")
    ap.add_argument("--keep", action="store_true", help="keep the scratch copy")
    ap.add_argument("docs", nargs="*", help="Markdown files relative to the repository (default: all)")
    a = ap.parse_args()
    repo = os.path.abspath(a.repo)
    build_dir = os.path.abspath(a.build_dir or os.path.join(repo, "build", "release"))
    if not a.list and not os.access(os.path.join(build_dir, "hmmsim"), os.X_OK):
        sys.exit("check_doc_commands: no hmmsim in %s (build first, or give --build-dir)" % build_dir)

    docs = a.docs or docs_to_check(repo)
    failures, skipped, passed, not_run = [], [], 0, []
    tmp = tempfile.mkdtemp(prefix="hmmsim-doc-commands-")
    t_all = time.monotonic()
    try:
        root, have_shared = make_copy(repo, build_dir, tmp) if not a.list else (repo, True)
        for doc in docs:
            with open(os.path.join(repo, doc), encoding="utf-8") as f:
                text = f.read()
            blocks = parse_blocks(doc, text)
            for bad in inline_bare_commands(doc, text):
                failures.append(bad)
                print("FAIL    %s  `%s`  (bare hmmsim in the text)" % bad[:2])
            for n, line in enumerate(text.splitlines(), 1):
                for m in PRIVATE_REF.finditer(line):
                    failures.append(("%s:%d" % (doc, n), m.group(1), "cites notes a clone does not have: "
                                     "cite the public source (docs/references.md)"))
                    print("FAIL    %s:%d  %s  (not in a clone)" % (doc, n, m.group(1)))
            for b in blocks:  # files the text shows, written before any command runs
                if b.lang in ("yaml", "yml") and b.lines and not b.no_test:
                    m = FILE_BLOCK.match(b.lines[0][1].strip())
                    if m and not a.list:
                        path = os.path.normpath(os.path.join(root, m.group(1)))
                        if not path.startswith(root + os.sep):
                            failures.append(("%s:%d" % (doc, b.line), "file block outside the repository: "
                                             + m.group(1), ""))
                            continue
                        os.makedirs(os.path.dirname(path), exist_ok=True)
                        with open(path, "w") as f:
                            f.write("\n".join(l for _, l in b.lines) + "\n")
            for b in blocks:
                if b.lang not in SHELL_LANGS:
                    continue
                cmds = block_commands(b)
                if b.no_test:
                    not_run.append("%s:%d (%d commands): %s" % (doc, b.line, len(cmds), b.no_test))
                    print("NO-TEST %s:%d  %s" % (doc, b.line, b.no_test))
                    continue
                skip_rest = None
                for c in cmds:
                    if SETUP.match(c.text):
                        print("SETUP   %s  %s  (the quick start's step; the build exists)" % (c.where(), c.text))
                        continue
                    if BARE_HMMSIM.match(c.text):
                        failures.append((c.where(), c.text, "a bare `hmmsim` is not on the PATH after the "
                                         "quick start: write build/release/hmmsim"))
                        print("FAIL    %s  %s  (bare hmmsim)" % (c.where(), c.text))
                        continue
                    if skip_rest:
                        skipped.append((c.where(), c.text, skip_rest))
                        print("SKIP    %s  %s  (%s)" % (c.where(), c.text, skip_rest))
                        continue
                    if not have_shared and needs_shared(c, root):
                        skip_rest = "after a command that needs ../shared"
                        skipped.append((c.where(), c.text, "needs ../shared, absent"))
                        print("SKIP    %s  %s  (needs ../shared, which is absent beside %s)" % (c.where(), c.text, repo))
                        continue
                    m = EXIT_NOTE.search(c.comment)
                    want = int(m.group(1)) if m else 0
                    if a.list:
                        print("RUN     %s  %s  (expect exit %d)" % (c.where(), c.text, want))
                        continue
                    code, out, secs = run(c, root, a.timeout)
                    if code == want:
                        passed += 1
                        print("PASS    %s  %.1fs  %s" % (c.where(), secs, c.text))
                    else:
                        why = ("timed out after %.0f s" % a.timeout if code is None
                               else "exit %d, expected %d" % (code, want))
                        failures.append((c.where(), c.text, why + "; output:\n" + tail(out)))
                        print("FAIL    %s  %.1fs  %s  (%s)" % (c.where(), secs, c.text, why))
                    sys.stdout.flush()
    finally:
        if a.keep:
            print("scratch copy kept in " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    print("\n%d passed, %d failed, %d skipped (../shared absent), %d blocks marked no-test; %.1f s"
          % (passed, len(failures), len(skipped), len(not_run), time.monotonic() - t_all))
    for where, text, why in failures:
        print("\nFAILED %s: %s\n  %s" % (where, text, why))
    if failures:
        return 1
    if skipped:
        print("skipped: the commands above need ../shared (the traces beside the clone, as in CI)")
        return SKIP_CODE
    return 0


if __name__ == "__main__":
    sys.exit(main())
