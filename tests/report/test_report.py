#!/usr/bin/python3
"""Tests of `hmmsim report` (scripts/report.py), through the hmmsim binary.

  test_report.py --hmmsim BUILD/hmmsim CASE...      CASE: run, sweep, errors (default: all)

run     a run of configs/default.yaml: every data-stat cell of its page holds the value
        stats.json has, written the same; every stats.json value is on the page; the
        derived TLB hit rates are hits / (hits + misses); the page is self-contained
        (PNG data: URIs only, no script, no link); two reports are byte-identical; a
        partial run is flagged; keys missing from stats.json show n/a; a run without
        timeseries.csv still gets its page.
sweep   a 6-point sweep with two failing points: each stat cell of the points table
        equals the point's stats.json value; one plot per numeric stat; --stat picks a
        stats.json key that results.csv lacks; --points writes and links each point's
        page; byte-identical twice.
errors  exit 2 with a message naming the problem: a missing folder, a folder that is no
        run or sweep, malformed stats.json / timeseries.csv / results.csv, a sweep not
        yet collected, an unknown --stat, no matplotlib (a stand-in that fails to
        import), a missing script.

Exit 0 passed, 1 failed, 77 skipped: the python3 `hmmsim report` runs
($HMMSIM_PYTHON or /usr/bin/python3) cannot import matplotlib (Debian's
python3-matplotlib, which scripts/deps.sh installs); `errors` needs no matplotlib
but for writing a page to a folder that does not exist.
"""
import argparse
import base64
import html.parser
import json
import os
import shutil
import subprocess
import sys
import tempfile
import traceback

SKIP = 77
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HMMSIM = None
HAVE_MATPLOTLIB = False
FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL: " + what)
    return cond


def hmmsim(*args, env=None, timeout=300):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([HMMSIM] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e,
                       timeout=timeout, cwd=ROOT)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def must(code_out_err, what):
    code, out, err = code_out_err
    if code != 0:
        raise AssertionError("%s: exit %d\nstdout:\n%s\nstderr:\n%s" % (what, code, out, err))
    return out


def have_matplotlib():
    py = os.environ.get("HMMSIM_PYTHON") or ("/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else "python3")
    try:
        return subprocess.run([py, "-c", "import matplotlib, PIL"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL).returncode == 0
    except OSError:
        return False


def raw_json(path):
    """stats.json with every number kept as the file's text."""
    with open(path) as f:
        return json.load(f, parse_float=lambda s: ("num", s), parse_int=lambda s: ("num", s))


def lookup(tree, key):
    for part in key.split("."):
        if not isinstance(tree, dict) or part not in tree:
            return None
        tree = tree[part]
    return tree


def leaves(tree, prefix=""):
    for k, v in tree.items():
        if not prefix and k == "units":  # each value's unit, not a value
            continue
        if isinstance(v, dict):
            yield from leaves(v, prefix + k + ".")
        else:
            yield prefix + k, v


def as_text(v):
    if isinstance(v, tuple):
        return v[1]
    if v is True:
        return "true"
    if v is False:
        return "false"
    return str(v)


class Page(html.parser.HTMLParser):
    """The cells with data-* attributes and their text, the images, scripts and links."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.cells, self.imgs, self.bad_tags, self.hrefs, self.title = [], [], [], [], ""
        self._cell = None
        self._in_title = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "td" and any(k.startswith("data-") for k in a):
            self._cell = (a, [])
        elif tag == "img":
            self.imgs.append(a.get("src", ""))
        elif tag in ("script", "link", "iframe", "object", "embed"):
            self.bad_tags.append(tag)
        elif tag == "a":
            self.hrefs.append(a.get("href", ""))
        elif tag == "title":
            self._in_title = True

    def handle_endtag(self, tag):
        if tag == "td" and self._cell:
            self.cells.append((self._cell[0], "".join(self._cell[1]).strip()))
            self._cell = None
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._cell:
            self._cell[1].append(data)
        if self._in_title:
            self.title += data


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def check_self_contained(page, text, where):
    check(not page.bad_tags, "%s: has %s tags" % (where, page.bad_tags))
    check("http://" not in text and "https://" not in text, "%s: refers to the web" % where)
    for src in page.imgs:
        ok = src.startswith("data:image/png;base64,")
        check(ok, "%s: an image that is not an embedded PNG: %s" % (where, src[:60]))
        if ok:
            check(base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n",
                  "%s: an embedded image is not a PNG" % where)
    for href in page.hrefs:
        check(href.startswith("#") or not (":" in href or href.startswith("/")),
              "%s: a link that is not relative: %s" % (where, href))


def check_run_cells(page, stats, where):
    """Every data-stat cell equals stats.json; returns the keys seen."""
    seen = set()
    for a, text in page.cells:
        if "data-stat" not in a or "data-point" in a:
            continue
        key = a["data-stat"]
        seen.add(key)
        v = lookup(stats, key)
        if a.get("data-missing") == "1":
            check(v is None or isinstance(v, dict), "%s: %s shown n/a but stats.json has %s" % (where, key, v))
            check(text == "n/a", "%s: missing %s shows %r, not n/a" % (where, key, text))
            continue
        if not check(v is not None, "%s: cell %s = %r but stats.json has no %s" % (where, key, text, key)):
            continue
        check(text == as_text(v), "%s: %s is %r on the page, %r in stats.json" % (where, key, text, as_text(v)))
        if isinstance(v, tuple):
            check(float(text) == float(v[1]), "%s: %s differs in value" % (where, key))
    for a, text in page.cells:
        if a.get("data-derived") == "hit_rate":
            lv = a["data-level"]
            h, m = lookup(stats, lv + ".hits"), lookup(stats, lv + ".misses")
            if check(h is not None and m is not None, "%s: hit rate of %s without its counters" % (where, lv)):
                h, m = float(h[1]), float(m[1])
                check(abs(float(text) - h / (h + m)) < 1e-8, "%s: %s hit rate %s, not %s / %s"
                      % (where, lv, text, h, h + m))
    return seen


KEY_FIGURES = ["sim.time_ns", "sim.kernel_time_ns", "kernels.k0.time_ns", "gpu.ipc", "gpu.accesses",
               "gpu.tlb.l1.hits", "gpu.tlb.l1.misses", "gpu.tlb.l2.hits", "gpu.gmmu.faults", "driver.batches",
               "driver.pages_to_vram", "driver.pages_to_sysmem", "driver.evictions", "driver.pages_evicted",
               "pcie.down.payload_bytes", "pcie.up.payload_bytes", "pcie.down.utilisation",
               "gpu.gmmu.fault_latency_ns.p50", "gpu.gmmu.fault_latency_ns.p99", "driver.batch.stage_ns.copy"]


def figures_keys(page):
    """data-stat keys of the key-figures table (the cells before the first stage cell)."""
    out = []
    for a, _ in page.cells:
        if a.get("data-stat", "").startswith("driver.batch.stage_ns."):
            break
        if "data-stat" in a:
            out.append(a["data-stat"])
    return out


# --- cases ---------------------------------------------------------------------

def case_run(tmp):
    run = os.path.join(tmp, "run")
    # Evictions and migrations both ways, in well under a second.
    must(hmmsim("run", "configs/default.yaml", "--set", "gpu.vram.capacity=1MiB", "--set", "workload.pages=256", "-q",
                "--out", run), "hmmsim run")
    out = must(hmmsim("report", run), "hmmsim report")
    check("report.html" in out, "report does not say where it wrote: %r" % out)
    text = read(os.path.join(run, "report.html"))
    page = Page(text)
    stats = raw_json(os.path.join(run, "stats.json"))
    seen = check_run_cells(page, stats, "run")
    for key, _ in leaves(stats):
        check(key in seen, "run: stats.json's %s is not on the page" % key)
    fk = figures_keys(page)
    for key in KEY_FIGURES[:-1]:
        check(key in fk, "run: key figures lack %s" % key)
    check("driver.batch.stage_ns.copy" in seen, "run: no batch-stage table")
    check(float(as_text(lookup(stats, "driver.evictions"))) > 0, "run: the test config evicts nothing any more")
    check(sum(1 for a, _ in page.cells if a.get("data-derived") == "hit_rate") >= 2, "run: no TLB hit rates")
    check(len(page.imgs) == 6, "run: %d plots, expected 6" % len(page.imgs))
    check_self_contained(page, text, "run")
    check("configs/default.yaml" in page.title, "run: title %r does not name the config" % page.title)
    check("gpu.vram.capacity=1MiB" in text, "run: the override is not in the header")
    check("sim.partial" not in text.split("<h2")[0], "run: a complete run flagged partial")

    # The same input, the same bytes; -o writes elsewhere.
    must(hmmsim("report", run, "-o", os.path.join(tmp, "again.html")), "report -o")
    check(read(os.path.join(tmp, "again.html")) == text, "run: two reports of one run differ")

    # A partial run is flagged; keys stats.json lacks are n/a; no timeseries.csv: no plots over time.
    part = os.path.join(tmp, "partial")
    shutil.copytree(run, part)
    os.remove(os.path.join(part, "report.html"))
    os.remove(os.path.join(part, "timeseries.csv"))
    s = read(os.path.join(part, "stats.json"))
    check('"partial": false' in s, "run: stats.json has no sim.partial false")
    s = s.replace('"partial": false', '"partial": true')
    tree = json.loads(s)
    del tree["gpu"]["tlb"]["l2"]
    del tree["driver"]["batch"]["stage_ns"]
    del tree["gpu"]["gmmu"]["fault_latency_ns"]
    with open(os.path.join(part, "stats.json"), "w") as f:
        json.dump(tree, f, indent=2)
    must(hmmsim("report", part), "report of a partial run without some keys")
    ptext = read(os.path.join(part, "report.html"))
    ppage = Page(ptext)
    check("sim.partial" in ptext.split("<h2")[0], "partial: no warning in the header")
    pstats = raw_json(os.path.join(part, "stats.json"))
    check_run_cells(ppage, pstats, "partial")
    missing = {a["data-stat"] for a, _ in ppage.cells if a.get("data-missing") == "1"}
    for key in ("gpu.tlb.l2.hits", "gpu.gmmu.fault_latency_ns.p99"):
        check(key in missing, "partial: %s not shown as n/a" % key)
    check("No timeseries.csv" in ptext, "partial: no note about the missing timeseries.csv")
    check(len(ppage.imgs) == 2, "partial: %d plots, expected 2 (batch time, TLB)" % len(ppage.imgs))

    # An extra key figure by --stat.
    must(hmmsim("report", run, "--stat", "driver.replays", "-o", os.path.join(tmp, "extra.html")), "--stat on a run")
    epage = Page(read(os.path.join(tmp, "extra.html")))
    check("driver.replays" in figures_keys(epage), "run --stat: driver.replays not among the key figures")


SWEEP = """sweep:
  name: tiny
  base: %s
  parameters:
    - {key: gpu.sms, values: [0, 1, 2]}
    - {key: driver.prefetch.impl, values: [none, uvm_tree]}
"""


def case_sweep(tmp):
    spec = os.path.join(tmp, "tiny.yaml")
    with open(spec, "w") as f:
        f.write(SWEEP % os.path.join(ROOT, "configs", "default.yaml"))
    sw = os.path.join(tmp, "tiny")
    code, out, err = hmmsim("sweep", spec, "-j", "2", "-q", "--out", sw)
    check(code == 1, "sweep with gpu.sms=0 points: exit %d, expected 1\n%s%s" % (code, out, err))
    must(hmmsim("report", sw), "report of a sweep")
    text = read(os.path.join(sw, "report.html"))
    page = Page(text)
    check_self_contained(page, text, "sweep")
    with open(os.path.join(sw, "results.csv")) as f:
        header = f.readline().strip().split(",")
    stat_cols = header[header.index("exit_code") + 1:]
    cells = [(a, t) for a, t in page.cells if "data-point" in a]
    check(len(cells) == 6 * len(stat_cols), "sweep: %d stat cells, expected %d" % (len(cells), 6 * len(stat_cols)))
    n_missing = 0
    for a, t in cells:
        pd = os.path.join(sw, "point-%03d" % int(a["data-point"]))
        ok = open(os.path.join(pd, "exit_code")).read().strip() == "0"
        if a.get("data-missing") == "1":
            n_missing += 1
            check(not ok, "sweep: a passed point's %s shown n/a" % a["data-stat"])
            continue
        v = lookup(raw_json(os.path.join(pd, "stats.json")), a["data-stat"])
        check(v is not None and t == as_text(v), "sweep: point %s %s is %r, stats.json has %r"
              % (a["data-point"], a["data-stat"], t, v))
    check(n_missing == 2 * len(stat_cols), "sweep: %d n/a cells, expected those of the 2 failed points" % n_missing)
    check(len(page.imgs) == len(stat_cols), "sweep: %d plots for %d stats" % (len(page.imgs), len(stat_cols)))
    must(hmmsim("report", sw, "-o", os.path.join(tmp, "again.html")), "sweep report -o")
    check(read(os.path.join(tmp, "again.html")) == text, "sweep: two reports of one sweep differ")

    # --stat: a stats.json key that results.csv lacks, read from each point; --points.
    must(hmmsim("report", sw, "--stat", "driver.replays", "--stat", "driver.batches", "--points"), "--stat --points")
    page = Page(read(os.path.join(sw, "report.html")))
    cells = [(a, t) for a, t in page.cells if "data-point" in a]
    check(sorted({a["data-stat"] for a, _ in cells}) == ["driver.batches", "driver.replays"],
          "sweep --stat: columns %s" % sorted({a["data-stat"] for a, _ in cells}))
    for a, t in cells:
        if a.get("data-missing") == "1":
            continue
        v = lookup(raw_json(os.path.join(sw, "point-%03d" % int(a["data-point"]), "stats.json")), a["data-stat"])
        check(t == as_text(v), "sweep --stat: point %s %s is %r, stats.json has %r" % (a["data-point"], a["data-stat"], t, v))
    check(len(page.imgs) == 2, "sweep --stat: %d plots, expected 2" % len(page.imgs))
    passed = [d for d in sorted(os.listdir(sw)) if d.startswith("point-")
              and open(os.path.join(sw, d, "exit_code")).read().strip() == "0"]
    for d in passed:
        check(os.path.isfile(os.path.join(sw, d, "report.html")), "sweep --points: no %s/report.html" % d)
        check(d + "/report.html" in page.hrefs, "sweep --points: no link to %s/report.html" % d)
        pstats = raw_json(os.path.join(sw, d, "stats.json"))
        check_run_cells(Page(read(os.path.join(sw, d, "report.html"))), pstats, d)


def expect_error(args, words, what, env=None):
    code, out, err = hmmsim("report", *args, env=env)
    check(code == 2, "%s: exit %d, expected 2 (stderr %r)" % (what, code, err))
    for w in words:
        check(w in err, "%s: stderr %r does not say %r" % (what, err, w))


def case_errors(tmp):
    expect_error([os.path.join(tmp, "nope")], ["nope", "no such folder"], "missing folder")
    empty = os.path.join(tmp, "empty")
    os.mkdir(empty)
    expect_error([empty], ["not a run or sweep folder"], "empty folder")
    expect_error([os.path.join(ROOT, "README.md")], ["not a folder"], "a file")
    code, _, err = hmmsim("report")
    check(code == 2 and "outdir" in err, "no OUTDIR: exit %d, %r" % (code, err))
    code, out, _ = hmmsim("--help")
    check(code == 0 and "  report " in out and "python3-matplotlib" in out, "--help does not describe report")

    run = os.path.join(tmp, "run")
    must(hmmsim("run", "configs/default.yaml", "-q", "--out", run), "hmmsim run")
    bad = os.path.join(tmp, "bad-stats")
    shutil.copytree(run, bad)
    s = read(os.path.join(bad, "stats.json"))
    with open(os.path.join(bad, "stats.json"), "w") as f:
        f.write(s[:len(s) // 2])
    expect_error([bad], ["stats.json", "malformed"], "truncated stats.json")
    bad = os.path.join(tmp, "bad-ts")
    shutil.copytree(run, bad)
    lines = read(os.path.join(bad, "timeseries.csv")).splitlines()
    lines[2] = lines[2].replace(",", ",x", 1)
    with open(os.path.join(bad, "timeseries.csv"), "w") as f:
        f.write("\n".join(lines) + "\n")
    expect_error([bad], ["timeseries.csv:3", "malformed"], "a bad timeseries.csv cell")
    with open(os.path.join(bad, "timeseries.csv"), "w") as f:
        f.write("\n".join(read(os.path.join(run, "timeseries.csv")).splitlines()[:3] + ["10,20"]) + "\n")
    expect_error([bad], ["timeseries.csv:4", "cells"], "a short timeseries.csv row")
    expect_error([run, "--stat", "no.such.stat"], ["no.such.stat"], "--stat not in a run's stats.json")
    expect_error([run, "--points"], ["--points"], "--points on a run")
    if HAVE_MATPLOTLIB:  # the page is made before it is written
        expect_error([run, "-o", os.path.join(tmp, "no-dir", "r.html")], ["cannot write", "no-dir"], "-o unwritable")

    sweep = os.path.join(tmp, "sweep")
    os.mkdir(sweep)
    with open(os.path.join(sweep, "sweep.json"), "w") as f:
        f.write("{}\n")
    expect_error([sweep], ["sweep collect"], "a sweep not collected")
    with open(os.path.join(sweep, "results.csv"), "w") as f:
        f.write("a,b,c\n1,2,3\n")
    expect_error([sweep], ["results.csv", "malformed"], "a bad results.csv header")
    os.makedirs(os.path.join(sweep, "point-000"))
    shutil.copy(os.path.join(run, "stats.json"), os.path.join(sweep, "point-000"))
    with open(os.path.join(sweep, "results.csv"), "w") as f:
        f.write("point,folder,gpu.sms,exit_code,driver.batches\n0,point-000,2,0,4\n")
    expect_error([sweep, "--stat", "no.such.stat"], ["no.such.stat"], "--stat in no point")
    expect_error([os.path.join(ROOT, "configs")], ["not a run or sweep folder"], "configs/")
    expect_error([run], ["HMMSIM_REPORT_SCRIPT"], "no script", env={"HMMSIM_REPORT_SCRIPT": os.path.join(tmp, "no.py")})
    expect_error([run], ["cannot run", "no-python3"], "no interpreter", env={"HMMSIM_PYTHON": os.path.join(tmp, "no-python3")})

    # A python3 whose matplotlib cannot be imported: the message names the Debian package.
    fake = os.path.join(tmp, "fake-site", "matplotlib")
    os.makedirs(fake)
    with open(os.path.join(fake, "__init__.py"), "w") as f:
        f.write("raise ImportError('a stand-in for a python3 without matplotlib')\n")
    if os.access("/usr/bin/python3", os.X_OK):
        expect_error([run], ["python3-matplotlib"], "no matplotlib",
                     env={"HMMSIM_PYTHON": "/usr/bin/python3", "PYTHONPATH": os.path.dirname(fake)})
    check(not os.path.exists(os.path.join(run, "report.html")), "errors: a failed report left report.html")


CASES = {"run": case_run, "sweep": case_sweep, "errors": case_errors}


def main():
    global HMMSIM, HAVE_MATPLOTLIB
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hmmsim", required=True, help="the hmmsim binary under test")
    ap.add_argument("cases", nargs="*", help="run, sweep, errors (default: all)")
    a = ap.parse_args()
    for c in a.cases:
        if c not in CASES:
            ap.error("unknown case %s (run, sweep, errors)" % c)
    HMMSIM = os.path.abspath(a.hmmsim)
    cases = a.cases or sorted(CASES)
    HAVE_MATPLOTLIB = have_matplotlib()
    if not HAVE_MATPLOTLIB:
        print("SKIP: the python3 hmmsim report uses cannot import matplotlib "
              "(Debian: apt-get install python3-matplotlib; scripts/deps.sh installs it)")
        if cases != ["errors"]:
            return SKIP
    for name in cases:
        tmp = tempfile.mkdtemp(prefix="hmmsim-report-%s-" % name)
        try:
            CASES[name](tmp)
        except Exception:
            FAILURES.append("%s: %s" % (name, traceback.format_exc()))
            print("FAIL: %s raised:\n%s" % (name, traceback.format_exc()))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if FAILURES:
        print("\n%d failures" % len(FAILURES))
        return 1
    print("passed: " + ", ".join(cases))
    return 0


if __name__ == "__main__":
    sys.exit(main())
