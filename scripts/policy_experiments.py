#!/usr/bin/python3
"""Run the driver-policy experiments and regenerate their part of docs/policies.md.

Each configs/experiments/*.exp.yaml defines one experiment: a set of hmmsim
runs (the cartesian product of its axes over a workload config), a table
and optionally a plot. The script runs every experiment's runs (a run that
two experiments share runs once), checks that each run exited 0 with
oracle.mismatches == 0, and rewrites what lies between the markers
    <!-- BEGIN GENERATED: policy_experiments.py -->
    <!-- END GENERATED -->
in docs/policies.md (created with a heading and the markers if missing;
everything outside them is kept byte for byte), plus the plots
docs/img/policies-<name>.png. Identical inputs give byte-identical output:
no timestamps, no temporary paths, fixed float formats, PNGs without
software metadata at a fixed dpi. A failed run (exit code, oracle mismatch,
missing stats.json) fails the script: once all runs are done it names each
failed run with its command and output, keeps the run folders, writes
nothing and exits 1.

Experiment file format (YAML; <name> is the file name without .exp.yaml):

  order: 1                     # sections are sorted by (order, name)
  title: Prefetchers under oversubscription   # the section heading
  about: >-                    # markdown paragraph under the heading
    ...
  set:                         # overrides for every run (hmmsim --set key=value)
    config: streaming.yaml     # pseudo-key: the workload YAML, relative to this file
    driver.eviction.impl: fifo
  axes:                        # runs = product of the axes, first axis outermost
    - name: oversubscription   # column header and plot role name
      key: gpu.vram.capacity   # shorthand: one key, one value per point ...
      values: [10MiB, 6552KiB, 5460KiB]
      labels: [0 %, 25 %, 50 %]   # ... optional labels (default: the values)
    - name: run
      points:                  # or explicit points, each with its own overrides
        - {label: streaming 0 %, set: {config: streaming.yaml, gpu.vram.capacity: 10MiB}}
  table: [kernel_us, batches]  # one row per run: the axis labels, then these metrics
  table:                       # or transposed: one row per metric, one column per run
    transpose: true
    label: stage               # header of the first column (default: metric)
    rows: [stage.fetch, stage.copy]
    total: true                # adds a sum row and each row's share of it
    extra: [batch_us_mean]     # rows after the total, without a share
  plot:                        # optional; docs/img/policies-<name>.png
    kind: grouped_bar          # metric; panels (optional axis): one subplot per point;
    metric: kernel_us          # groups: axis along x; series: axis of the bars in a group
    panels: workload
    groups: oversubscription
    series: prefetch
    logy: true                 # optional: log y axis
  plot: {kind: line, x: batch_count, series: gpu, logx: 2, panels: [[unique_pages_mean], [batches]]}
                               # x: an axis with numeric values; series (optional): one line
                               # per point; one subplot per metric list
  plot: {kind: stacked_bar, metrics: [stage.fetch, stage.copy], panels: true}
                               # one bar per run, metrics / 1000 (ylabel: ... to name them);
                               # panels: true gives each bar its own subplot and y scale
  quick:                       # optional: the --quick subset, labels kept per axis;
    oversubscription: [0 %]    # experiments without `quick` do not run with --quick

Later overrides win: an axis point's over `set`, a later axis's over an
earlier one's. A metric is a name from METRICS below (e.g. kernel_us,
batches, pages_faulted_in, pages_prefetcher, pages_evicted, evictions,
replays, entries_flushed, batch_us_mean, faults_per_batch,
unique_pages_mean, stage.<stage>) or a dotted path into stats.json
(driver.tlb_full_flushes).

  scripts/policy_experiments.py                 # everything; rewrites docs
  scripts/policy_experiments.py --quick         # CI: a few runs, writes nothing
  scripts/policy_experiments.py -j 4 --out runs # keep the run folders in runs/
  scripts/policy_experiments.py --out runs --reuse --stdout   # re-render from runs/

Python 3 standard library + PyYAML; matplotlib for the plots (skipped with
a message when it is not importable). Not a test: CTest never runs this.
"""
import argparse
import concurrent.futures
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

try:
    import yaml
except ImportError:
    sys.exit("policy_experiments.py needs PyYAML (Debian: apt-get install python3-yaml)")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXP_DIR = os.path.join(ROOT, "configs", "experiments")
DOC = os.path.join(ROOT, "docs", "policies.md")
IMG_DIR = os.path.join(ROOT, "docs", "img")
BEGIN = "<!-- BEGIN GENERATED: policy_experiments.py -->"
END = "<!-- END GENERATED -->"
DPI = 100

STAGES = ["fetch", "preprocess", "range_fault", "migrate", "allocate", "copy", "pte_write", "invalidate", "replay"]

# name: (header, stats path, scale, format)
METRICS = {
    "kernel_us": ("kernel µs", "sim.kernel_time_ns", 1e-3, "%.1f"),
    "batches": ("batches", "driver.batches", 1, "%d"),
    "pages_faulted_in": ("faulted in", "driver.pages_faulted_in", 1, "%d"),
    "pages_prefetcher": ("prefetched", "driver.pages_prefetcher", 1, "%d"),
    "pages_evicted": ("evicted pages", "driver.pages_evicted", 1, "%d"),
    "evictions": ("evictions", "driver.evictions", 1, "%d"),
    "pages_mapped_remote": ("mapped remote", "driver.pages_mapped_remote", 1, "%d"),
    "replays": ("replays", "driver.replays", 1, "%d"),
    "entries_flushed": ("entries flushed", "driver.entries_flushed", 1, "%d"),
    "faults_fetched": ("faults fetched", "driver.faults_fetched", 1, "%d"),
    "batch_us_mean": ("mean batch µs", "driver.batch.time_ns.mean", 1e-3, "%.1f"),
    "batch_us_p50": ("p50 batch µs", "driver.batch.time_ns.p50", 1e-3, "%.1f"),
    "batch_us_p99": ("p99 batch µs", "driver.batch.time_ns.p99", 1e-3, "%.1f"),
    "faults_per_batch": ("faults / batch", "driver.batch.faults.mean", 1, "%.1f"),
    "faults_per_batch_max": ("max faults / batch", "driver.batch.faults.max", 1, "%.0f"),
    "unique_pages_mean": ("unique pages / batch", "driver.batch.unique_pages.mean", 1, "%.1f"),
    "unique_pages_max": ("max unique pages / batch", "driver.batch.unique_pages.max", 1, "%.0f"),
    "pages_to_vram": ("to VRAM", "driver.pages_to_vram", 1, "%d"),
    "cpu_migrate_backs": ("CPU migrate-backs", "host.migrate_to_ram", 1, "%d"),
    "dup_pages": ("copies made", "driver.read_dup.pages", 1, "%d"),
    "dup_dropped": ("copies dropped", "driver.read_dup.dropped", 1, "%d"),
    "down_kib": ("PCIe down KiB", "pcie.down.payload_bytes", 1 / 1024, "%.0f"),
    "up_kib": ("PCIe up KiB", "pcie.up.payload_bytes", 1 / 1024, "%.0f"),
    "huge_ptes": ("2 MiB PTE writes", "driver.huge_pte_writes", 1, "%d"),
    "vram_chunks": ("2 MiB chunks", "driver.vram_chunks", 1, "%d"),
    "vram_pieces": ("64 KiB pieces", "driver.vram_pieces", 1, "%d"),
}
for _s in STAGES:
    METRICS["stage." + _s] = (_s, "driver.batch.stage.%s.mean" % _s, 1, "%.0f")

EXP_KEYS = {"order", "title", "about", "set", "axes", "table", "plot", "quick"}


class ExpError(Exception):
    pass


def metric_info(name):
    if name in METRICS:
        return METRICS[name]
    return (name, name, 1, None)


def metric_value(stats, name):
    _, path, scale, _ = metric_info(name)
    v = stats
    for part in path.split("."):
        if not isinstance(v, dict) or part not in v:
            return None
        v = v[part]
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return v * scale


def fmt_metric(name, v):
    if v is None:
        return "–"
    fmt = metric_info(name)[3]
    if fmt is None:
        fmt = "%d" if float(v).is_integer() else "%.1f"
    if fmt == "%d":
        return "%d" % round(v)
    return fmt % v


def set_value(v):
    """A YAML value as hmmsim's --set text."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float, str)):
        return str(v)
    return json.dumps(v, sort_keys=True)  # flow YAML


# ---------------------------------------------------------------- definitions

def check_metric(path, name):
    if not isinstance(name, str) or (name not in METRICS and "." not in name):
        raise ExpError("%s: unknown metric %r (known: %s, or a dotted stats path)" % (path, name, ", ".join(METRICS)))


def load_experiment(path):
    with open(path) as f:
        d = yaml.safe_load(f)
    if not isinstance(d, dict):
        raise ExpError("%s: not a mapping" % path)
    unknown = set(d) - EXP_KEYS
    if unknown:
        raise ExpError("%s: unknown keys %s" % (path, ", ".join(sorted(unknown))))
    for k in ("title", "axes", "table"):
        if k not in d:
            raise ExpError("%s: missing %r" % (path, k))
    e = {"path": path, "name": os.path.basename(path)[:-len(".exp.yaml")], "order": d.get("order", 0),
         "title": str(d["title"]), "about": (d.get("about") or "").strip(), "set": dict(d.get("set") or {})}
    axes = []
    for a in d["axes"]:
        if not isinstance(a, dict) or "name" not in a:
            raise ExpError("%s: each axis needs a name" % path)
        name = str(a["name"])
        if any(x["name"] == name for x in axes):
            raise ExpError("%s: axis %s twice" % (path, name))
        points = []
        if "points" in a:
            for p in a["points"]:
                if "label" not in p:
                    raise ExpError("%s: axis %s: each point needs a label" % (path, name))
                points.append({"label": str(p["label"]), "value": p.get("value"), "set": dict(p.get("set") or {})})
        elif "key" in a and "values" in a:
            labels = a.get("labels") or a["values"]
            if len(labels) != len(a["values"]):
                raise ExpError("%s: axis %s: %d labels for %d values" % (path, name, len(labels), len(a["values"])))
            for v, l in zip(a["values"], labels):
                points.append({"label": str(l), "value": v, "set": {a["key"]: v}})
        else:
            raise ExpError("%s: axis %s needs key and values, or points" % (path, name))
        if len({p["label"] for p in points}) != len(points):
            raise ExpError("%s: axis %s: labels repeat" % (path, name))
        axes.append({"name": name, "points": points})
    e["axes"] = axes
    names = [a["name"] for a in axes]

    t = d["table"]
    if isinstance(t, list):
        e["table"] = {"transpose": False, "columns": list(t)}
        for m in t:
            check_metric(path, m)
    elif isinstance(t, dict) and t.get("transpose"):
        e["table"] = {"transpose": True, "rows": list(t.get("rows") or []), "total": bool(t.get("total")),
                      "label": str(t.get("label", "metric")),
                      "extra": list(t.get("extra") or [])}
        for m in e["table"]["rows"] + e["table"]["extra"]:
            check_metric(path, m)
    else:
        raise ExpError("%s: table is a list of metrics or a mapping with transpose: true" % path)

    p = d.get("plot")
    if p is not None:
        kind = p.get("kind")
        if kind == "grouped_bar":
            check_metric(path, p.get("metric"))
            for role in ("groups", "series"):
                if p.get(role) not in names:
                    raise ExpError("%s: plot.%s must name an axis" % (path, role))
            if p.get("panels") is not None and p["panels"] not in names:
                raise ExpError("%s: plot.panels must name an axis" % path)
            roles = [p.get("panels"), p["groups"], p["series"]]
            if set(names) - set(roles):
                raise ExpError("%s: grouped_bar: every axis needs a role (panels, groups, series)" % path)
        elif kind == "line":
            if p.get("x") not in names:
                raise ExpError("%s: line plot: x must name an axis" % path)
            if p.get("series") is not None and p["series"] not in names:
                raise ExpError("%s: line plot: series must name an axis" % path)
            if set(names) - {p["x"], p.get("series")}:
                raise ExpError("%s: line plot: every axis needs a role (x, series)" % path)
            for panel in p.get("panels") or []:
                for m in panel:
                    check_metric(path, m)
        elif kind == "stacked_bar":
            for m in p.get("metrics") or []:
                check_metric(path, m)
        else:
            raise ExpError("%s: plot.kind is grouped_bar, line or stacked_bar" % path)
    e["plot"] = p

    q = d.get("quick")
    if q is not None:
        for axis, labels in q.items():
            if axis not in names:
                raise ExpError("%s: quick: no axis %s" % (path, axis))
            known = [pt["label"] for pt in axes[names.index(axis)]["points"]]
            for l in labels:
                if str(l) not in known:
                    raise ExpError("%s: quick: axis %s has no point %r" % (path, axis, l))
    e["quick"] = q
    return e


def load_experiments(directory):
    paths = sorted(glob.glob(os.path.join(directory, "*.exp.yaml")))
    if not paths:
        raise ExpError("no *.exp.yaml in %s" % directory)
    exps = [load_experiment(p) for p in paths]
    exps.sort(key=lambda e: (e["order"], e["name"]))
    return exps


def expand(exp, quick):
    """The experiment's runs: [(labels {axis: label}, overrides dict)] in axis order."""
    axes = exp["axes"]
    if quick:
        axes = [dict(a, points=[p for p in a["points"]
                                if a["name"] not in exp["quick"] or p["label"] in map(str, exp["quick"][a["name"]])])
                for a in axes]
    out = [({}, dict(exp["set"]))]
    for a in axes:
        nxt = []
        for labels, sets in out:
            for p in a["points"]:
                s = dict(sets)
                s.update(p["set"])
                nxt.append((dict(labels, **{a["name"]: p["label"]}), s))
        out = nxt
    for labels, sets in out:
        if "config" not in sets:
            raise ExpError("%s: run %s names no config" % (exp["path"], labels))
    return out


class Run:
    def __init__(self, sets, base_dir):
        self.config = os.path.normpath(os.path.join(base_dir, str(sets["config"])))
        if not os.path.isfile(self.config):
            raise ExpError("no workload config %s" % self.config)
        self.sets = sorted((k, set_value(v)) for k, v in sets.items() if k != "config")
        self.key = json.dumps([os.path.relpath(self.config, ROOT), self.sets])
        stem = os.path.basename(self.config).rsplit(".", 1)[0]
        self.id = "%s-%s" % (stem, hashlib.sha1(self.key.encode()).hexdigest()[:10])
        self.stats = None
        self.users = []  # (experiment name, labels)

    def describe(self):
        return " ".join([os.path.relpath(self.config, ROOT)] + ["--set %s=%s" % kv for kv in self.sets])


# ---------------------------------------------------------------- running

def execute(run, args, out_dir, progress):
    folder = os.path.join(out_dir, run.id)
    cmd = [args.hmmsim, "run", run.config]
    for k, v in run.sets:
        cmd += ["--set", "%s=%s" % (k, v)]
    cmd += ["-q", "--out", folder]
    record = os.path.join(folder, "run.json")
    stats_path = os.path.join(folder, "stats.json")
    reused = False
    if args.reuse and os.path.isfile(record) and os.path.isfile(stats_path):
        with open(record) as f:
            r = json.load(f)
        reused = r.get("cmd") == cmd[:-1] and r.get("returncode") == 0
    t0 = time.monotonic()
    problem = None
    if not reused:
        if os.path.isdir(folder):
            shutil.rmtree(folder)
        os.makedirs(folder)
        p = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        with open(record, "w") as f:
            json.dump({"cmd": cmd[:-1], "returncode": p.returncode}, f, indent=1)
            f.write("\n")
        with open(os.path.join(folder, "output.txt"), "w") as f:
            f.write(p.stdout)
        if p.returncode != 0:
            tail = "\n".join(p.stdout.rstrip().splitlines()[-30:])
            problem = "hmmsim exited %d\n%s" % (p.returncode, tail)
    if problem is None:
        try:
            with open(stats_path) as f:
                run.stats = json.load(f)
        except (OSError, ValueError) as ex:
            problem = "no readable stats.json: %s" % ex
    if problem is None:
        mism = metric_value(run.stats, "oracle.mismatches")
        if mism is None or mism != 0:
            problem = "oracle.mismatches = %s" % mism
    progress(run, time.monotonic() - t0, reused, problem)
    return problem


def run_all(runs, args, out_dir):
    lock = threading.Lock()
    done = [0]

    def progress(run, secs, reused, problem):
        with lock:
            done[0] += 1
            print("[%d/%d] %s %s (%s)%s" % (done[0], len(runs), "reused" if reused else "%.1f s" % secs,
                                            run.id, run.describe(), " FAILED" if problem else ""),
                  file=sys.stderr, flush=True)

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        futures = [(r, ex.submit(execute, r, args, out_dir, progress)) for r in runs]
        failed = [(r, f.result()) for r, f in futures if f.result() is not None]
    return failed


# ---------------------------------------------------------------- markdown

def md_table(header, rows, numeric):
    align = ["---:" if n else "---" for n in numeric]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def run_label(exp, labels):
    return ", ".join(labels[a["name"]] for a in exp["axes"])


def render_table(exp, results):
    t = exp["table"]
    if not t["transpose"]:
        header = [a["name"] for a in exp["axes"]] + [metric_info(m)[0] for m in t["columns"]]
        rows = [[labels[a["name"]] for a in exp["axes"]] + [fmt_metric(m, metric_value(run.stats, m)) for m in t["columns"]]
                for labels, run in results]
        return md_table(header, rows, [False] * len(exp["axes"]) + [True] * len(t["columns"]))
    cols = [run_label(exp, labels) for labels, _ in results]
    stage_rows = t["rows"]
    header = [t["label"]] + cols
    rows = []
    totals = [sum(metric_value(run.stats, m) or 0 for m in stage_rows) for _, run in results]
    for m in stage_rows:
        cells = []
        for (_, run), tot in zip(results, totals):
            v = metric_value(run.stats, m)
            cell = fmt_metric(m, v)
            if t["total"] and v is not None and tot > 0:
                cell += " (%.1f %%)" % (100.0 * v / tot)
            cells.append(cell)
        rows.append([metric_info(m)[0]] + cells)
    if t["total"]:
        rows.append(["**total**"] + ["%.0f" % tot for tot in totals])
    for m in t["extra"]:
        rows.append([metric_info(m)[0]] + [fmt_metric(m, metric_value(run.stats, m)) for _, run in results])
    return md_table(header, rows, [False] + [True] * len(cols))


def render(exps, per_exp, plotted, total_runs):
    out = [BEGIN, "",
           "Regenerate with `scripts/policy_experiments.py` (from the repository root; runs every "
           "`configs/experiments/*.exp.yaml` through `build/release/hmmsim`, %d runs, and rewrites this "
           "section and `docs/img/policies-*.png`). Generated: do not edit between the markers." % total_runs, ""]
    for exp in exps:
        results = per_exp[exp["name"]]
        out.append("### %s" % exp["title"])
        out.append("")
        if exp["about"]:
            out.append(exp["about"])
            out.append("")
        configs = []
        for _, run in results:
            c = "`%s`" % os.path.relpath(run.config, ROOT)
            if c not in configs:
                configs.append(c)
        common = " ".join("`--set %s=%s`" % (k, set_value(v)) for k, v in sorted(exp["set"].items()) if k != "config")
        axes = "; ".join("%s: %s" % (a["name"], ", ".join(
            "%s (%s)" % (p["label"], " ".join("%s=%s" % (k, set_value(v)) for k, v in sorted(p["set"].items())))
            if any(set_value(v) != p["label"] for v in p["set"].values()) else p["label"]
            for p in a["points"])) for a in exp["axes"])
        out.append("Definition `%s`: %s%s; %s." % (
            os.path.relpath(exp["path"], ROOT), ", ".join(configs), (" with " + common) if common else "", axes))
        out.append("")
        out.append(render_table(exp, results))
        out.append("")
        if exp["name"] in plotted:
            out.append("![%s](img/policies-%s.png)" % (exp["title"], exp["name"]))
            out.append("")
    out.append(END)
    return "\n".join(out)


def write_docs(text):
    if os.path.isfile(DOC):
        with open(DOC) as f:
            doc = f.read()
    else:
        doc = "# Driver policies\n\n%s\n%s\n" % (BEGIN, END)
    b, e = doc.find(BEGIN), doc.find(END)
    if b < 0 or e < 0 or e < b or doc.count(BEGIN) != 1:
        sys.exit("%s: need exactly one %s followed by %s" % (DOC, BEGIN, END))
    new = doc[:b] + text + doc[e + len(END):]
    if new == doc:
        print("%s unchanged" % os.path.relpath(DOC, ROOT), file=sys.stderr)
        return
    with open(DOC, "w") as f:
        f.write(new)
    print("%s updated" % os.path.relpath(DOC, ROOT), file=sys.stderr)


# ---------------------------------------------------------------- plots

def import_pyplot():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        return plt
    except ImportError:
        print("matplotlib not importable: no plots written (Debian: apt-get install python3-matplotlib)",
              file=sys.stderr)
        return None


def plot_grouped_bar(plt, exp, results, p):
    axes = {a["name"]: a for a in exp["axes"]}
    panels = [pt["label"] for pt in axes[p["panels"]]["points"]] if p.get("panels") else [None]
    groups = [pt["label"] for pt in axes[p["groups"]]["points"]]
    series = [pt["label"] for pt in axes[p["series"]]["points"]]
    values = {}
    for labels, run in results:
        values[(labels.get(p.get("panels")), labels[p["groups"]], labels[p["series"]])] = metric_value(run.stats, p["metric"])
    fig, axs = plt.subplots(1, len(panels), figsize=(1.2 + 4.2 * len(panels), 4.0), squeeze=False)
    width = 0.8 / len(series)
    for ax, panel in zip(axs[0], panels):
        for i, s in enumerate(series):
            xs = [g + (i - (len(series) - 1) / 2.0) * width for g in range(len(groups))]
            ys = [values.get((panel, g, s)) or 0 for g in groups]
            ax.bar(xs, ys, width, label=s, color="C%d" % i)
        ax.set_xticks(range(len(groups)))
        ax.set_xticklabels(groups)
        ax.set_xlabel(p["groups"])
        ax.set_ylabel(metric_info(p["metric"])[0])
        if panel is not None:
            ax.set_title(panel)
        if p.get("logy"):
            ax.set_yscale("log")
        ax.grid(True, axis="y", alpha=0.3)
    axs[0][0].legend(title=p["series"], fontsize=8, title_fontsize=8)
    fig.suptitle(exp["title"])
    fig.tight_layout()
    return fig


def plot_line(plt, exp, results, p):
    axes = {a["name"]: a for a in exp["axes"]}
    axis = axes[p["x"]]
    xs = [float(pt["value"] if pt["value"] is not None else pt["label"]) for pt in axis["points"]]
    series = [pt["label"] for pt in axes[p["series"]]["points"]] if p.get("series") else [None]
    by_label = {(labels.get(p.get("series")), labels[axis["name"]]): run for labels, run in results}
    panels = p.get("panels") or []
    styles = ["-", "--", ":", "-."]
    fig, axs = plt.subplots(1, len(panels), figsize=(1.0 + 4.0 * len(panels), 3.8), squeeze=False)
    for ax, metrics in zip(axs[0], panels):
        for i, m in enumerate(metrics):
            for j, s in enumerate(series):
                ys = [metric_value(by_label[(s, pt["label"])].stats, m) for pt in axis["points"]]
                name = metric_info(m)[0] if len(metrics) > 1 else None
                if s is not None:
                    name = s if name is None else "%s, %s" % (name, s)
                ax.plot(xs, [y if y is not None else float("nan") for y in ys], marker="o", ms=4,
                        color="C%d" % (j if s is not None else i), ls=styles[i % len(styles)] if s is not None else "-",
                        label=name)
        if p.get("logx"):
            ax.set_xscale("log", base=p["logx"])
        ax.set_xticks(xs)
        ax.set_xticklabels([pt["label"] for pt in axis["points"]], rotation=45, fontsize=8)
        ax.set_xlabel(axis["name"])
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        if len(metrics) == 1:
            ax.set_ylabel(metric_info(metrics[0])[0])
        if len(metrics) > 1 or len(series) > 1:
            ax.legend(fontsize=7)
    fig.suptitle(exp["title"])
    fig.tight_layout()
    return fig


def plot_stacked_bar(plt, exp, results, p):
    metrics = p.get("metrics") or []
    names = [run_label(exp, labels) for labels, _ in results]
    # panels: true gives each bar its own subplot and y scale
    groups = [[i] for i in range(len(names))] if p.get("panels") else [list(range(len(names)))]
    fig, axs = plt.subplots(1, len(groups), figsize=(2.4 + 1.9 * len(names), 4.6), squeeze=False)
    for ax, idx in zip(axs[0], groups):
        bottoms = [0.0] * len(idx)
        for i, m in enumerate(metrics):
            ys = [(metric_value(results[k][1].stats, m) or 0) / 1e3 for k in idx]
            ax.bar(range(len(idx)), ys, 0.6, bottom=bottoms, label=metric_info(m)[0], color="C%d" % (i % 10))
            bottoms = [b + y for b, y in zip(bottoms, ys)]
        ax.set_xticks(range(len(idx)))
        ax.set_xticklabels([names[k] for k in idx])
        ax.set_xlim(-0.7, len(idx) - 0.3)
        ax.grid(True, axis="y", alpha=0.3)
    axs[0][0].set_ylabel(p.get("ylabel", "µs per batch (mean)"))
    handles, labels = axs[0][-1].get_legend_handles_labels()
    axs[0][-1].legend(handles[::-1], labels[::-1], fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.suptitle(exp["title"])
    fig.tight_layout()
    return fig


def write_plots(exps, per_exp):
    plt = import_pyplot()
    if plt is None:
        return set()
    os.makedirs(IMG_DIR, exist_ok=True)
    done = set()
    for exp in exps:
        p = exp["plot"]
        if not p:
            continue
        fig = {"grouped_bar": plot_grouped_bar, "line": plot_line, "stacked_bar": plot_stacked_bar}[p["kind"]](
            plt, exp, per_exp[exp["name"]], p)
        path = os.path.join(IMG_DIR, "policies-%s.png" % exp["name"])
        fig.savefig(path, dpi=DPI, metadata={"Software": None})
        plt.close(fig)
        print("plot written to %s" % os.path.relpath(path, ROOT), file=sys.stderr)
        done.add(exp["name"])
    return done


# ---------------------------------------------------------------- main

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hmmsim", default=os.path.join(ROOT, "build", "release", "hmmsim"))
    p.add_argument("--experiments", default=EXP_DIR, help="folder of *.exp.yaml (default configs/experiments)")
    p.add_argument("-j", "--jobs", type=int, default=2, help="hmmsim runs in parallel (default 2)")
    p.add_argument("--out", help="folder for the run folders (default: a temporary folder, removed on success)")
    p.add_argument("--reuse", action="store_true",
                   help="with --out: reuse a run folder whose recorded command matches and exited 0")
    p.add_argument("--quick", action="store_true",
                   help="only the experiments' `quick` subsets; checks the runs, writes nothing to docs")
    p.add_argument("--stdout", action="store_true", help="print the generated markdown instead of writing docs")
    args = p.parse_args()
    if not os.access(args.hmmsim, os.X_OK):
        p.error("no hmmsim binary at %s (build it, or give --hmmsim)" % args.hmmsim)
    if args.reuse and not args.out:
        p.error("--reuse needs --out")
    args.hmmsim = os.path.abspath(args.hmmsim)

    try:
        exps = load_experiments(args.experiments)
        if args.quick:
            exps = [e for e in exps if e["quick"] is not None]
        runs = {}
        per_exp = {}
        for exp in exps:
            rows = []
            for labels, sets in expand(exp, args.quick):
                r = Run(sets, os.path.dirname(exp["path"]))
                r = runs.setdefault(r.key, r)
                r.users.append((exp["name"], labels))
                rows.append((labels, r))
            per_exp[exp["name"]] = rows
    except ExpError as ex:
        sys.exit("policy_experiments.py: %s" % ex)

    tmp = None
    if args.out:
        out_dir = os.path.abspath(args.out)
        os.makedirs(out_dir, exist_ok=True)
    else:
        out_dir = tmp = tempfile.mkdtemp(prefix="policy_experiments_")
    t0 = time.monotonic()
    order = list(runs.values())
    print("%d experiments, %d runs, -j %d, run folders in %s" % (len(exps), len(order), args.jobs, out_dir),
          file=sys.stderr)
    failed = run_all(order, args, out_dir)
    elapsed = time.monotonic() - t0
    if failed:
        for r, problem in failed:
            print("\nFAILED run %s: hmmsim run %s" % (r.id, r.describe()), file=sys.stderr)
            print("  used by: %s" % "; ".join("%s [%s]" % (n, ", ".join("%s=%s" % kv for kv in l.items()))
                                               for n, l in r.users), file=sys.stderr)
            print("  folder: %s" % os.path.join(out_dir, r.id), file=sys.stderr)
            print("  " + problem.replace("\n", "\n  "), file=sys.stderr)
        print("\n%d of %d runs failed (%.1f s)" % (len(failed), len(order), elapsed), file=sys.stderr)
        sys.exit(1)
    print("%d runs ok in %.1f s" % (len(order), elapsed), file=sys.stderr)

    if args.quick:
        for exp in exps:
            print(render_table(exp, per_exp[exp["name"]]))
    elif args.stdout:
        print(render(exps, per_exp, {e["name"] for e in exps if e["plot"]}, len(order)))
    else:
        plotted = write_plots(exps, per_exp)
        write_docs(render(exps, per_exp, plotted, len(order)))
    if tmp:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
