#!/usr/bin/python3
"""Turn a run folder or a sweep folder into one self-contained HTML page with plots.

What `build/release/hmmsim report OUTDIR` runs (docs/outputs.md, "Reports"):

  scripts/report.py OUTDIR [-o FILE] [--stat KEY ...] [--points]

OUTDIR is either
  - a run folder (`hmmsim run ... --out OUTDIR`: stats.json, and config.json,
    summary.txt, timeseries.csv when present): the page has the run's header,
    a key-figures table, the batch-stage table, every counter of stats.json and
    plots of faults and migrations over time, PCIe bandwidth over time, VRAM in
    use over time, the batch latency by stage, TLB hit rates per level and the
    fault-latency and batch-time distributions; or
  - a sweep folder (`hmmsim sweep ... --out OUTDIR`: results.csv and point-NNN/):
    the page has a table of the points (parameters, exit code, stats) and, for
    each chosen stat, one plot per swept parameter (with two or more
    parameters, one line per value of the others).

The page goes to OUTDIR/report.html unless -o says otherwise. Every value a
table shows from stats.json or results.csv is in a cell carrying its key,
written exactly as in the file: <td data-stat="driver.batches">360</td> (in a
sweep's table also data-point="N"); a key the file lacks shows "n/a" with
data-missing="1". Derived figures (TLB hit rates) carry data-derived.

The page needs nothing else: plots are PNGs embedded as base64, the style is
inline, there is no script. The same input gives the same bytes: no
timestamps, no absolute paths of its own, PNGs without software metadata at a
fixed size and dpi.

Exit status: 0 written; 2 bad input (OUTDIR missing, not a run or sweep
folder, a malformed stats.json, timeseries.csv, config.json or results.csv,
an unknown --stat), matplotlib missing (Debian: python3-matplotlib) or a
page that cannot be written. Python 3 standard library and matplotlib (with
Pillow, which it needs anyway).
"""
import argparse
import base64
import csv
import html
import io
import itertools
import json
import math
import os
import sys

DPI = 90
# The driver's batch pipeline, in order (host/gpu_driver/batch_stages.h);
# stages stats.json has beyond these follow in its order.
STAGES = ["fetch", "preprocess", "range_fault", "migrate", "allocate", "copy", "pte_write", "invalidate", "replay"]
TLB_LEVELS = [("l1", "L1"), ("l15", "L1.5"), ("l2", "L2")]
# One colour per timeseries.csv column, the same in every plot.
COLOURS = {"faults": "C0", "batches": "C1", "pages_to_vram": "C2", "pages_to_sysmem": "C3", "pages_evicted": "C4",
           "cpu_migrate_backs": "C5", "pcie_down_bytes": "C0", "pcie_up_bytes": "C1"}


class ReportError(Exception):
    """Bad input: exit 2 with this message."""


def fail(msg):
    raise ReportError(msg)


# --- reading -----------------------------------------------------------------

class Num(float):
    """A number of a JSON file that remembers how the file wrote it."""
    text = ""


def _num(text):
    n = Num(text)
    n.text = text
    return n


def load_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f, parse_float=_num, parse_int=_num)
    except json.JSONDecodeError as e:
        fail("%s: malformed JSON: line %d column %d: %s" % (path, e.lineno, e.colno, e.msg))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        fail("%s: cannot read: %s" % (path, e))


def lookup(tree, key):
    """The value at a dotted path ("gpu.tlb.l1.hits"; list items by index), or None."""
    node = tree
    for part in key.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def number(tree, key):
    v = lookup(tree, key)
    return float(v) if isinstance(v, Num) else None


def literal(v):
    """A value as its file wrote it: numbers verbatim, JSON's true/false/null, strings as they are."""
    if isinstance(v, Num):
        return v.text
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, str):
        return v
    return json.dumps(v, sort_keys=True)


def flatten(tree, prefix=""):
    """(dotted key, leaf value) in the file's order; stats.json's top-level
    "units" (path -> unit) is about the values, not one of them."""
    out = []
    for k, v in tree.items():
        if not prefix and k == "units":
            continue
        if isinstance(v, dict):
            out += flatten(v, prefix + k + ".")
        else:
            out.append((prefix + k, v))
    return out


def load_timeseries(path):
    """{column: [values]} from timeseries.csv; checked: a header with time_us, numbers, whole rows."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        fail("%s: cannot read: %s" % (path, e))
    if not rows or "time_us" not in rows[0]:
        fail("%s: malformed: the first line must be the header with time_us" % path)
    header = rows[0]
    cols = {h: [] for h in header}
    if len(cols) != len(header) or any(not h for h in header):
        fail("%s: malformed header: empty or repeated column names" % path)
    for n, row in enumerate(rows[1:], 2):
        if not row:
            continue
        if len(row) != len(header):
            fail("%s:%d: malformed: %d cells, the header has %d" % (path, n, len(row), len(header)))
        for h, cell in zip(header, row):
            try:
                x = float(cell)
            except ValueError:
                fail("%s:%d: malformed: column %s is not a number: %r" % (path, n, h, cell))
            if not math.isfinite(x):
                fail("%s:%d: malformed: column %s is not finite: %r" % (path, n, h, cell))
            cols[h].append(x)
    t = cols["time_us"]
    if any(b <= a for a, b in zip(t, t[1:])) or (t and t[0] <= 0):
        fail("%s: malformed: time_us must increase from above 0" % path)
    return cols


# --- formatting --------------------------------------------------------------

def esc(s):
    return html.escape(str(s), quote=True)


def fmt_count(x):
    return "{:,}".format(int(round(x))) if abs(x - round(x)) < 1e-9 else "%.4g" % x


def fmt_ns(ns):
    a = abs(ns)
    if a >= 1e9:
        return "%.3f s" % (ns / 1e9)
    if a >= 1e6:
        return "%.3f ms" % (ns / 1e6)
    if a >= 1e3:
        return "%.3f µs" % (ns / 1e3)
    return "%.3f ns" % ns


def fmt_bytes(b):
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if abs(b) >= scale:
            return "%.1f %s" % (b / scale, unit)
    return "%d B" % b


def fmt_pct(r):
    return "%.2f %%" % (100 * r)


FORMATS = {"count": fmt_count, "ns": fmt_ns, "bytes": fmt_bytes, "pct": fmt_pct,
           "float": lambda x: "%.4g" % x}


# --- plots -------------------------------------------------------------------

class Plotter:
    """matplotlib with the Agg backend, made deterministic; figures to base64 PNG <img> tags.

    matplotlib is imported at the first figure, so bad input is reported first."""

    def __init__(self):
        self.plt = None

    def _start(self):
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
            from PIL import Image
        except ImportError as e:
            fail("matplotlib is not importable by %s (%s): install Debian's python3-matplotlib "
                 "(apt-get install python3-matplotlib), or point HMMSIM_PYTHON at a python3 that has it"
                 % (sys.executable, e))
        matplotlib.rcParams.update({
            "svg.hashsalt": "hmmsim", "font.size": 9, "axes.titlesize": 10, "axes.grid": True,
            "grid.alpha": 0.3, "legend.fontsize": 8, "figure.dpi": DPI, "savefig.dpi": DPI,
            "path.simplify": True})
        self.plt = plt
        self.Image = Image

    def figure(self, w, h, rows=1, cols=1, **kw):
        if self.plt is None:
            self._start()
        return self.plt.subplots(rows, cols, figsize=(w, h), squeeze=False, **kw)

    def img(self, fig, alt):
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
        self.plt.close(fig)
        # A palette of 128 colours (Pillow, which matplotlib needs anyway):
        # the PNG shrinks about threefold and the plot looks the same.
        small = io.BytesIO()
        self.Image.open(buf).convert("RGB").quantize(128).save(small, format="png", optimize=True)
        data = base64.b64encode(small.getvalue()).decode("ascii")
        return '<img alt="%s" src="data:image/png;base64,%s">' % (esc(alt), data)


def kernel_spans(stats):
    """[(name, start µs, end µs)] of the kernels, for shading timelines."""
    spans = []
    for k, v in (lookup(stats, "kernels") or {}).items():
        if not isinstance(v, dict):
            continue
        start, dur = number(v, "start_ns"), number(v, "time_ns")
        if start is not None and dur is not None:
            spans.append(("%s %s" % (k, literal(v.get("name", ""))), start / 1e3, (start + dur) / 1e3))
    return spans


def shade_kernels(ax, spans, label=True):
    """Shades the kernels' spans; with `label`, names each (k0, k1, ...) at the top and in the legend."""
    for i, (name, a, b) in enumerate(spans):
        ax.axvspan(a, b, color="0.85", zorder=0, lw=0, label="kernels" if label and i == 0 else None)
        if label:
            ax.text((a + b) / 2, 0.98, name.split()[0], transform=ax.get_xaxis_transform(), ha="center", va="top",
                    fontsize=7, color="0.35")


def plot_run_timeline(p, ts, spans):
    t = ts["time_us"]
    fig, axes = p.figure(9, 7.2, 3, 1, sharex=True)
    top, bottom, total = axes[0][0], axes[1][0], axes[2][0]
    shade_kernels(top, spans)
    shade_kernels(bottom, spans, label=False)
    shade_kernels(total, spans, label=False)
    for col, label in (("faults", "faults written"), ("batches", "batches serviced")):
        if col in ts:
            top.plot(t, ts[col], drawstyle="steps-pre", lw=1, label=label, color=COLOURS[col])
    top.set_ylabel("per epoch")
    top.set_title("Faults and batches per epoch")
    top.legend(loc="upper right")
    for col, label in (("pages_to_vram", "pages to VRAM"), ("pages_to_sysmem", "pages to system memory"),
                       ("pages_evicted", "pages evicted"), ("cpu_migrate_backs", "CPU faults migrating back")):
        if col in ts and any(ts[col]):
            bottom.plot(t, ts[col], drawstyle="steps-pre", lw=1, label=label, color=COLOURS[col])
    bottom.set_ylabel("pages per epoch")
    bottom.set_title("Pages migrated per epoch")
    if bottom.get_legend_handles_labels()[0]:
        bottom.legend(loc="upper right")
    for col, label in (("faults", "faults written"), ("pages_to_vram", "pages to VRAM"),
                       ("pages_to_sysmem", "pages to system memory"), ("pages_evicted", "pages evicted")):
        if col in ts and any(ts[col]):
            total.plot(t, list(itertools.accumulate(ts[col])), lw=1.2, label=label, color=COLOURS[col],
                       ls="--" if col == "pages_evicted" else "-")
    total.set_ylabel("since the start")
    total.set_xlabel("simulated time (µs)")
    total.set_title("Cumulative (each line ends at its stats.json total)")
    if total.get_legend_handles_labels()[0]:
        total.legend(loc="upper left")
    total.set_xlim(0, t[-1])
    total.set_ylim(bottom=0)
    return p.img(fig, "faults, batches and pages migrated per epoch over simulated time, and their running totals")


def epoch_lengths_ns(t_us):
    return [(b - a) * 1e3 for a, b in zip([0.0] + t_us[:-1], t_us)]


def plot_pcie(p, ts, spans):
    t = ts["time_us"]
    dt = epoch_lengths_ns(t)
    fig, axes = p.figure(9, 3.2)
    ax = axes[0][0]
    shade_kernels(ax, spans)
    for col, label in (("pcie_down_bytes", "down (host to device)"), ("pcie_up_bytes", "up (device to host)")):
        if col in ts:
            ax.plot(t, [b / d for b, d in zip(ts[col], dt)], drawstyle="steps-pre", lw=1, label=label,
                    color=COLOURS[col])
    ax.set_ylabel("payload GB/s (epoch mean)")
    ax.set_xlabel("simulated time (µs)")
    ax.set_title("PCIe payload bandwidth")
    ax.set_xlim(0, t[-1])
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper right")
    return p.img(fig, "PCIe payload bandwidth each way over simulated time")


def plot_vram(p, ts, spans, capacity):
    t = ts["time_us"]
    fig, axes = p.figure(9, 3.0)
    ax = axes[0][0]
    shade_kernels(ax, spans)
    ax.plot(t, [v / 2**20 for v in ts["vram_used_bytes"]], drawstyle="steps-pre", lw=1.2, label="in use")
    if capacity:
        ax.axhline(capacity / 2**20, color="C3", ls="--", lw=1, label="capacity (gpu.vram.capacity)")
    ax.set_ylabel("MiB")
    ax.set_xlabel("simulated time (µs)")
    ax.set_title("VRAM in use (page tables, migrated pages, read copies) at each epoch's end")
    ax.set_xlim(0, t[-1])
    ax.set_ylim(bottom=0)
    ax.legend(loc="best")
    return p.img(fig, "VRAM occupancy over simulated time")


def stage_order(stats):
    sums = lookup(stats, "driver.batch.stage_ns")
    names = list(sums) if isinstance(sums, dict) else []
    return [s for s in STAGES if s in names] + [s for s in names if s not in STAGES]


def plot_stages(p, stats, stages):
    sums = [number(stats, "driver.batch.stage_ns." + s) or 0.0 for s in stages]
    total = sum(sums)
    fig, axes = p.figure(9, 0.32 * len(stages) + 1.0)
    ax = axes[0][0]
    y = list(range(len(stages)))
    ax.barh(y, [v / 1e3 for v in sums], color=["C%d" % (i % 10) for i in y])
    ax.set_yticks(y)
    ax.set_yticklabels(stages)
    ax.invert_yaxis()
    for yi, v in zip(y, sums):
        ax.annotate(" %.1f µs (%.1f %%)" % (v / 1e3, 100 * v / total if total else 0), (v / 1e3, yi),
                    va="center", fontsize=8)
    ax.set_xlim(0, max(sums) / 1e3 * 1.3 if max(sums) > 0 else 1)
    ax.set_xlabel("time summed over all batches (µs)")
    ax.set_title("Batch latency by stage (driver.batch.stage_ns.*)")
    ax.grid(axis="y", visible=False)
    return p.img(fig, "batch latency breakdown by stage")


def plot_tlb(p, rates):
    fig, axes = p.figure(5, 2.8)
    ax = axes[0][0]
    names = [n for n, _, _, _ in rates]
    vals = [100 * r if r is not None else 0 for _, r, _, _ in rates]
    ax.bar(names, vals, color=["C0", "C1", "C2"][:len(names)], width=0.6)
    for i, (_, r, h, m) in enumerate(rates):
        ax.annotate("%.1f %%\n%s / %s" % (100 * r, fmt_count(h), fmt_count(h + m)) if r is not None else "no lookups",
                    (i, vals[i]), ha="center", va="bottom", fontsize=8)
    ax.set_ylim(0, 119)
    ax.set_ylabel("hits / lookups (%)")
    ax.set_title("TLB hit rates (lookups reaching the level)")
    ax.grid(axis="x", visible=False)
    return p.img(fig, "TLB hit rate per level")


def plot_distributions(p, stats, dists):
    fig, axes = p.figure(9, 3.0, 1, len(dists))
    for ax, (key, title) in zip(axes[0], dists):
        qs = [("p50", "p50"), ("p90", "p90"), ("p99", "p99"), ("max", "max")]
        vals = [number(stats, key + "." + q) for q, _ in qs]
        shown = [(lab, v) for (_, lab), v in zip(qs, vals) if v is not None]
        ax.bar([lab for lab, _ in shown], [v / 1e3 for _, v in shown], color="C0", width=0.6)
        for i, (_, v) in enumerate(shown):
            ax.annotate("%.1f" % (v / 1e3), (i, v / 1e3), ha="center", va="bottom", fontsize=8)
        mean = number(stats, key + ".mean")
        if mean is not None:
            ax.axhline(mean / 1e3, color="C3", ls="--", lw=1, label="mean %.1f µs" % (mean / 1e3))
            ax.legend(loc="upper left")
        count = number(stats, key + ".count")
        ax.set_title("%s (%s samples)" % (title, fmt_count(count) if count is not None else "n/a"))
        ax.set_ylabel("µs")
        top = max([v for _, v in shown] + [mean or 0, 1]) / 1e3
        ax.set_ylim(0, top * 1.25)
        ax.grid(axis="x", visible=False)
    return p.img(fig, "fault latency and batch time distributions")


# --- the run page ------------------------------------------------------------

CSS = """
body{font-family:sans-serif;font-size:14px;line-height:1.4;margin:1.5em auto;max-width:960px;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:2px 8px;vertical-align:top}
th{background:#f4f4f4;text-align:left;font-weight:normal}td.num,td.raw{text-align:right;font-family:monospace}
tr.group th{background:#e8e8f0;font-weight:bold}code{font-size:.95em}
img{max-width:100%;display:block;margin:.5em 0}pre{background:#f6f6f6;padding:.6em;overflow-x:auto}
.warn{background:#fff0d0;border:1px solid #e0b040;padding:.5em .8em}.bad{background:#ffe0e0;border-color:#d04040}
.note{color:#555}table.all td{font-family:monospace}table.all td+td{text-align:right}
"""


def page(title, body):
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>%s</title>\n"
            "<style>%s</style>\n</head>\n<body>\n%s\n</body>\n</html>\n" % (esc(title), CSS.strip(), body))


def stat_cell(stats, key, extra=""):
    v = lookup(stats, key)
    if v is None or isinstance(v, dict):
        return '<td class="raw" data-stat="%s" data-missing="1"%s>n/a</td>' % (esc(key), extra)
    return '<td class="raw" data-stat="%s"%s>%s</td>' % (esc(key), extra, esc(literal(v)))


def key_figures(stats, extra_keys):
    """(group, [(label, key, format)]) for the key-figures table."""
    kernels = []
    for k, v in (lookup(stats, "kernels") or {}).items():
        if isinstance(v, dict):
            kernels.append(("kernel %s (%s), launch to completion" % (k, literal(v.get("name", "?"))),
                            "kernels.%s.time_ns" % k, "ns"))
    groups = [
        ("Time", [("simulated time", "sim.time_ns", "ns"),
                  ("kernel time, all kernels", "sim.kernel_time_ns", "ns")] + kernels +
                 [("GPU cycles (kernel time)", "gpu.cycles", "count"),
                  ("warp instructions", "gpu.instructions", "count"),
                  ("IPC (warp instructions per cycle, all SMs)", "gpu.ipc", "float")]),
        ("Accesses and translation", [("global warp memory instructions", "gpu.accesses", "count")] +
         [x for lv, name in TLB_LEVELS if lookup(stats, "gpu.tlb." + lv) is not None or lv != "l15"
          for x in (("%s TLB hits" % name, "gpu.tlb.%s.hits" % lv, "count"),
                    ("%s TLB misses" % name, "gpu.tlb.%s.misses" % lv, "count"))] +
         [("page walks", "gpu.gmmu.walks", "count")]),
        ("Faults", [("fault entries written by the GMMU", "gpu.gmmu.faults", "count"),
                    ("fault entries the driver read", "driver.faults_fetched", "count"),
                    ("fatal (cancelled) faults", "driver.faults_fatal", "count"),
                    ("batches", "driver.batches", "count"),
                    ("replays", "driver.replays", "count"),
                    ("batch time, mean", "driver.batch.time_ns.mean", "ns"),
                    ("fault latency p50", "gpu.gmmu.fault_latency_ns.p50", "ns"),
                    ("fault latency p90", "gpu.gmmu.fault_latency_ns.p90", "ns"),
                    ("fault latency p99", "gpu.gmmu.fault_latency_ns.p99", "ns"),
                    ("fault latency max", "gpu.gmmu.fault_latency_ns.max", "ns")]),
        ("Migration", [("pages migrated to VRAM", "driver.pages_to_vram", "count"),
                       ("pages migrated to system memory", "driver.pages_to_sysmem", "count"),
                       ("pages prefetched (prefetcher's choice)", "driver.pages_prefetcher", "count"),
                       ("pages mapped remote (system memory)", "driver.pages_mapped_remote", "count"),
                       ("evictions", "driver.evictions", "count"),
                       ("pages evicted", "driver.pages_evicted", "count"),
                       ("CPU faults migrating a page back", "host.migrate_to_ram", "count")]),
        ("PCIe", [("payload bytes down (host to device)", "pcie.down.payload_bytes", "bytes"),
                  ("payload bytes up (device to host)", "pcie.up.payload_bytes", "bytes"),
                  ("utilisation down", "pcie.down.utilisation", "pct"),
                  ("utilisation up", "pcie.up.utilisation", "pct")]),
        ("Data checks", [("loads checked by the oracle", "oracle.checks", "count"),
                         ("mismatches", "oracle.mismatches", "count")]),
    ]
    for k in extra_keys:
        v = lookup(stats, k)
        if v is None:
            fail("--stat %s: not in stats.json" % k)
        if isinstance(v, dict):
            fail("--stat %s: a group of stats.json, not one value (e.g. %s.%s)" % (k, k, next(iter(v), "")))
    if extra_keys:
        groups.append(("Chosen (--stat)", [(k, k, "float") for k in extra_keys]))
    return groups


def tlb_rates(stats):
    """[(level name, hit rate or None, hits, misses)] for the levels stats.json has."""
    out = []
    for lv, name in TLB_LEVELS:
        h, m = number(stats, "gpu.tlb.%s.hits" % lv), number(stats, "gpu.tlb.%s.misses" % lv)
        if h is None or m is None:
            continue
        out.append((name, h / (h + m) if h + m > 0 else None, h, m))
    return out


def key_figures_table(stats, extra_keys):
    rows = ['<table class="figures">',
            "<tr><th>figure</th><th>value</th><th>stats.json key</th><th>as recorded</th></tr>"]
    rates = {name: (r, h, m) for name, r, h, m in tlb_rates(stats)}
    for group, items in key_figures(stats, extra_keys):
        rows.append('<tr class="group"><th colspan="4">%s</th></tr>' % esc(group))
        for label, key, kind in items:
            v = number(stats, key)
            shown = FORMATS[kind](v) if v is not None else ("n/a" if lookup(stats, key) is None
                                                           else esc(literal(lookup(stats, key))))
            rows.append('<tr><th>%s</th><td class="num">%s</td><td><code>%s</code></td>%s</tr>'
                        % (esc(label), esc(shown), esc(key), stat_cell(stats, key)))
            lv = key.split(".")[2] if key.startswith("gpu.tlb.") and key.endswith(".misses") else None
            name = dict(TLB_LEVELS).get(lv)
            if name in rates:
                r, h, m = rates[name]
                rows.append('<tr><th>%s TLB hit rate (hits / lookups)</th><td class="num">%s</td>'
                            '<td><code>gpu.tlb.%s.hits / (hits + misses)</code></td>'
                            '<td class="raw" data-derived="hit_rate" data-level="gpu.tlb.%s">%s</td></tr>'
                            % (name, "n/a" if r is None else fmt_pct(r), lv, lv,
                               "n/a" if r is None else "%.9g" % r))
    rows.append("</table>")
    return "\n".join(rows)


def stages_table(stats, stages):
    cols = ["mean", "p50", "p90", "p99", "max"]
    rows = ["<table>", "<tr><th>stage</th><th>sum over batches (ns)</th>%s</tr>"
            % "".join("<th>%s per batch (ns)</th>" % c for c in cols)]
    for s in stages:
        rows.append("<tr><th>%s</th>%s%s</tr>" % (esc(s), stat_cell(stats, "driver.batch.stage_ns." + s),
                                                   "".join(stat_cell(stats, "driver.batch.stage.%s.%s" % (s, c))
                                                           for c in cols)))
    rows.append("<tr><th>whole batch</th><td></td>%s</tr>"
                % "".join(stat_cell(stats, "driver.batch.time_ns." + c) for c in cols))
    rows.append("</table>")
    return "\n".join(rows)


def all_counters_table(stats):
    units = stats.get("units") if isinstance(stats.get("units"), dict) else {}
    rows = ['<details><summary>All %d values of stats.json</summary>' % len(flatten(stats)),
            '<table class="all">', "<tr><th>stats.json key</th><th>as recorded</th><th>unit</th></tr>"]
    for key, v in flatten(stats):
        rows.append('<tr><td>%s</td><td data-stat="%s">%s</td><td>%s</td></tr>'
                    % (esc(key), esc(key), esc(literal(v)), esc(str(units.get(key, "")))))
    rows += ["</table>", "</details>"]
    return "\n".join(rows)


def config_value(config, key):
    v = lookup(config, key) if config else None
    return "n/a" if v is None or isinstance(v, (dict, list)) else literal(v)


def run_header(d, stats, config, summary):
    title = "hmmsim run %s" % (config_value(config, "hmmsim.config") if config else os.path.basename(d))
    meta = lookup(config, "hmmsim") if config else None
    out = ["<h1>%s</h1>" % esc(title)]
    rows = []

    def row(label, value, code=True):
        rows.append("<tr><th>%s</th><td>%s</td></tr>" % (esc(label), ("<code>%s</code>" % esc(value)) if code else value))

    if isinstance(meta, dict):
        row("config", config_value(config, "hmmsim.config"))
        ov = meta.get("overrides") or []
        row("overrides (--set)", " ".join("<code>%s</code>" % esc(literal(o)) for o in ov) if ov else "none", False)
        row("hmmsim", "%s (%s)" % (config_value(config, "hmmsim.version"), config_value(config, "hmmsim.commit")))
    else:
        rows.append('<tr><th>config</th><td>n/a: no config.json in the folder</td></tr>')
    if config:
        row("workload", config_value(config, "workload.kind"))
        cap = number(config, "gpu.vram.capacity")
        clock = number(config, "gpu.clock_mhz")
        row("GPU", esc("%s SMs at %s MHz, VRAM %s" % (config_value(config, "gpu.sms"),
                                                      "%g" % clock if clock is not None else "n/a",
                                                      fmt_bytes(cap) if cap is not None else "n/a")), False)
        row("PCIe", esc("Gen%s x%s" % (config_value(config, "pcie.gen"), config_value(config, "pcie.lanes"))), False)
        row("driver policies", ", ".join("%s=%s" % (f, config_value(config, "driver.%s.impl" % f))
                                         for f in ("placement", "prefetch", "eviction", "thrashing", "replay")))
    result = None
    for line in (summary or "").splitlines():
        if line.strip().startswith("result"):
            result = line.strip()[len("result"):].strip()
    row("result (summary.txt)", esc(result or "n/a"), False)
    out += ['<table class="header">'] + rows + ["</table>"]
    warnings = []
    if lookup(stats, "sim.partial") is True:
        warnings.append("This run was stopped by a signal (<code>sim.partial</code> is true): "
                        "every figure below covers the run up to the stop only.")
    errs = [(k, v) for k, v in flatten(lookup(stats, "errors") or {}) if isinstance(v, Num) and v != 0]
    if errs:
        warnings.append("Error counters are non-zero: " + ", ".join("<code>errors.%s</code> = %s" % (esc(k), esc(v.text))
                                                                   for k, v in errs))
    if (number(stats, "oracle.mismatches") or 0) > 0:
        warnings.append("The oracle found %s data mismatches." % esc(literal(lookup(stats, "oracle.mismatches"))))
    for k, v in (lookup(stats, "kernels") or {}).items():
        if isinstance(v, dict) and number(v, "finished") == 0:
            warnings.append("Kernel %s did not finish: its figures count up to the stop." % esc(k))
    for w in warnings:
        out.append('<p class="warn bad">%s</p>' % w)
    return title, "\n".join(out)


def run_report(d, extra_keys, p):
    stats_path = os.path.join(d, "stats.json")
    stats = load_json(stats_path)
    if not isinstance(stats, dict):
        fail("%s: malformed: not a JSON object" % stats_path)
    config = None
    if os.path.isfile(os.path.join(d, "config.json")):
        config = load_json(os.path.join(d, "config.json"))
        if not isinstance(config, dict):
            fail("%s: malformed: not a JSON object" % os.path.join(d, "config.json"))
    summary = None
    if os.path.isfile(os.path.join(d, "summary.txt")):
        with open(os.path.join(d, "summary.txt"), encoding="utf-8", errors="replace") as f:
            summary = f.read()
    ts = None
    ts_path = os.path.join(d, "timeseries.csv")
    if os.path.isfile(ts_path):
        ts = load_timeseries(ts_path)
        if not ts["time_us"]:
            ts = None

    title, header = run_header(d, stats, config, summary)
    spans = kernel_spans(stats)
    body = [header, "<h2>Key figures</h2>",
            '<p class="note">The last column is the value exactly as <code>stats.json</code> has it; the value '
            "column puts it in units. Hit rates count the lookups that reached the level (the one above missed). "
            'Every key is in <a href="#all">all values</a> below and described in <code>stats.txt</code>.</p>',
            key_figures_table(stats, extra_keys)]

    body.append("<h2>Over time</h2>")
    if ts is None:
        body.append('<p class="note">No timeseries.csv in the folder (<code>run.timeseries_epoch</code> = 0, '
                    "or the run wrote no epoch): no plots over time.</p>")
    else:
        epochs = epoch_lengths_ns(ts["time_us"])
        body.append('<p class="note">From <code>timeseries.csv</code>: %d epochs of %s (the last may be shorter); '
                    "the kernels' spans are shaded.</p>" % (len(epochs), fmt_ns(epochs[0])))
        body.append(plot_run_timeline(p, ts, spans))
        if "pcie_down_bytes" in ts or "pcie_up_bytes" in ts:
            body.append(plot_pcie(p, ts, spans))
        if "vram_used_bytes" in ts:
            body.append(plot_vram(p, ts, spans, number(config, "gpu.vram.capacity") if config else None))

    body.append("<h2>Fault batches</h2>")
    stages = stage_order(stats)
    if stages:
        body.append(plot_stages(p, stats, stages))
        body.append(stages_table(stats, stages))
    else:
        body.append('<p class="note">n/a: stats.json has no <code>driver.batch.stage_ns</code>.</p>')
    dists = [(k, t) for k, t in (("gpu.gmmu.fault_latency_ns", "fault latency: entry to replay"),
                                 ("driver.batch.time_ns", "batch time"))
             if isinstance(lookup(stats, k), dict)]
    if dists:
        body.append(plot_distributions(p, stats, dists))

    body.append("<h2>Translation</h2>")
    rates = tlb_rates(stats)
    if rates:
        body.append(plot_tlb(p, rates))
    else:
        body.append('<p class="note">n/a: stats.json has no TLB hits and misses.</p>')

    if summary is not None:
        body.append("<h2>Summary (summary.txt)</h2>")
        body.append("<pre>%s</pre>" % esc(summary.rstrip("\n")))
    body.append('<h2 id="all">All values</h2>')
    body.append(all_counters_table(stats))
    return page(title, "\n".join(body))


# --- the sweep page ----------------------------------------------------------

def load_results(d):
    path = os.path.join(d, "results.csv")
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        fail("%s: cannot read: %s" % (path, e))
    if not rows or rows[0][:2] != ["point", "folder"] or "exit_code" not in rows[0]:
        fail("%s: malformed: the header must start with point,folder and have exit_code" % path)
    header = rows[0]
    ec = header.index("exit_code")
    params, stats = header[2:ec], header[ec + 1:]
    points = []
    for n, row in enumerate(rows[1:], 2):
        if not row:
            continue
        if len(row) != len(header):
            fail("%s:%d: malformed: %d cells, the header has %d" % (path, n, len(row), len(header)))
        if not row[0].isdigit() or os.sep in row[1] or row[1] in ("", ".", ".."):
            fail("%s:%d: malformed: bad point number or folder" % (path, n))
        points.append({"point": int(row[0]), "folder": row[1], "params": row[2:ec], "exit_code": row[ec],
                       "stats": dict(zip(stats, row[ec + 1:]))})
    if not points:
        fail("%s: no points" % path)
    return params, stats, points


def csv_number(text):
    try:
        x = float(text)
    except ValueError:
        return None
    return x if math.isfinite(x) else None


def resolve_x(d, params, points):
    """Per parameter: (positions per point, tick positions, tick labels, numeric?).

    A parameter whose resolved value (each point's config.json) is a number for
    every point is placed by that number, so 6552KiB falls between 5460KiB and
    10MiB; other parameters are placed in order of first appearance."""
    out = []
    for i, key in enumerate(params):
        labels = [pt["params"][i] for pt in points]
        vals = []
        for pt in points:
            v = csv_number(pt["params"][i])
            if v is None:
                cfg_path = os.path.join(d, pt["folder"], "config.json")
                if os.path.isfile(cfg_path):
                    v = number(load_json(cfg_path), key)
            vals.append(v)
        distinct = list(dict.fromkeys(labels))
        if all(v is not None for v in vals):
            pos = dict(zip(labels, vals))
            out.append(([pos[l] for l in labels], [pos[l] for l in distinct], distinct, True))
        else:
            out.append(([float(distinct.index(l)) for l in labels], [float(j) for j in range(len(distinct))],
                        distinct, False))
    return out


def sweep_values(d, stats_cols, points, chosen):
    """{stat: [(literal text or None) per point]}: from results.csv, or each point's stats.json."""
    cache = {}

    def point_stats(pt):
        if pt["folder"] not in cache:
            path = os.path.join(d, pt["folder"], "stats.json")
            cache[pt["folder"]] = load_json(path) if os.path.isfile(path) else None
        return cache[pt["folder"]]

    out = {}
    for key in chosen:
        if key in stats_cols:
            out[key] = [pt["stats"][key] if pt["stats"][key] != "" else None for pt in points]
        else:
            vals = []
            for pt in points:
                s = point_stats(pt)
                v = lookup(s, key) if isinstance(s, dict) else None
                vals.append(literal(v) if v is not None and not isinstance(v, dict) else None)
            if all(v is None for v in vals):
                fail("--stat %s: neither a column of %s nor in any point's stats.json"
                     % (key, os.path.join(d, "results.csv")))
            out[key] = vals
    return out


def unit_of(key, ys):
    """(scale, unit) to plot a stat in: times and sizes by their name, in a unit that fits."""
    top = max([abs(y) for y in ys if y is not None] + [0])
    last = key.split(".")
    if any(part.endswith("_ns") for part in last):
        for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
            if top >= scale:
                return scale, unit
        return 1, "ns"
    if any(part.endswith("_bytes") for part in last):
        for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
            if top >= scale:
                return scale, unit
        return 1, "bytes"
    return 1, None


def plot_sweep_stat(p, key, params, xs, points, values, ok):
    n = len(params)
    fig, axes = p.figure(4.8 * min(n, 2), 3.6 * ((n + 1) // 2), (n + 1) // 2, min(n, 2))
    flat = [ax for row in axes for ax in row]
    ys = [csv_number(v) if v is not None and good else None for v, good in zip(values, ok)]
    scale, unit = unit_of(key, ys)
    ys = [y / scale if y is not None else None for y in ys]
    for i, (ax, param) in enumerate(zip(flat, params)):
        pos, ticks, labels, numeric = xs[i]
        # One line per combination of the other parameters' values; when every
        # combination holds one point (zip mode), one line through them all.
        groups = {}
        for j, pt in enumerate(points):
            other = tuple((params[k], pt["params"][k]) for k in range(n) if k != i)
            groups.setdefault(other, []).append(j)
        if all(len(g) == 1 for g in groups.values()):
            groups = {(): list(range(len(ys)))}
        for c, (other, idx) in enumerate(groups.items()):
            pts = sorted((pos[j], ys[j]) for j in idx if ys[j] is not None)
            if not pts:
                continue
            label = ", ".join("%s=%s" % kv for kv in other) if other else None
            ax.plot([a for a, _ in pts], [b for _, b in pts], marker="o", ms=4, lw=1.2, color="C%d" % (c % 10),
                    label=label)
        ax.set_xticks(ticks)
        ax.set_xticklabels(labels, rotation=45 if len(labels) > 6 else 0, ha="right" if len(labels) > 6 else "center")
        ax.set_xlabel(param)
        ax.set_ylabel("%s (%s)" % (key, unit) if unit else key)
        ax.ticklabel_format(axis="y", style="plain", useOffset=False)
        ax.margins(x=0.08)
        if all(y is None or y >= 0 for y in ys):
            ax.set_ylim(bottom=0)
        labels_shown = ax.get_legend_handles_labels()[1]
        if labels_shown:
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22 if len(ticks) <= 6 else -0.32),
                      ncol=2 if len(labels_shown) > 3 else 1, fontsize=7, frameon=False)
    for ax in flat[n:]:
        ax.set_visible(False)
    fig.suptitle(key, fontsize=10)
    return p.img(fig, "%s against %s" % (key, ", ".join(params)))


def sweep_report(d, out_path, chosen, write_points, p):
    params, stats_cols, points = load_results(d)
    if write_points:
        for pt in points:
            pd = os.path.join(d, pt["folder"])
            if os.path.isfile(os.path.join(pd, "stats.json")):
                write(os.path.join(pd, "report.html"), run_report(pd, [], p))
    if not chosen:
        chosen = [k for k in stats_cols
                  if any(csv_number(pt["stats"][k]) is not None for pt in points)]
    values = sweep_values(d, stats_cols, points, chosen)
    ok = [pt["exit_code"] == "0" for pt in points]
    name = os.path.basename(os.path.normpath(d))
    plan = os.path.join(d, "sweep.json")
    if os.path.isfile(plan):
        meta = load_json(plan)
        if isinstance(meta, dict) and isinstance(meta.get("name"), str):
            name = meta["name"]
    title = "hmmsim sweep %s" % name
    body = ["<h1>%s</h1>" % esc(title),
            "<p>%d points over %s; %d passed (exit code 0)%s.</p>"
            % (len(points), ", ".join("<code>%s</code>" % esc(k) for k in params) or "no parameters", sum(ok),
               "" if all(ok) else ": failed points are left out of the plots")]
    out_dir = os.path.dirname(os.path.abspath(out_path))
    rows = ["<table class=\"points\">", "<tr><th>point</th>%s<th>exit code</th>%s<th>report</th></tr>"
            % ("".join("<th><code>%s</code></th>" % esc(k) for k in params),
               "".join("<th><code>%s</code></th>" % esc(k) for k in chosen))]
    for j, pt in enumerate(points):
        rep = os.path.join(d, pt["folder"], "report.html")
        link = ('<a href="%s">%s</a>' % (esc(os.path.relpath(os.path.abspath(rep), out_dir).replace(os.sep, "/")),
                                         esc(pt["folder"])) if os.path.isfile(rep) else "")
        cells = "".join(('<td class="raw" data-stat="%s" data-point="%d">%s</td>'
                         % (esc(k), pt["point"], esc(values[k][j])) if values[k][j] is not None else
                         '<td class="raw" data-stat="%s" data-point="%d" data-missing="1">n/a</td>'
                         % (esc(k), pt["point"])) for k in chosen)
        rows.append('<tr%s><th>%d <code>%s</code></th>%s<td class="num">%s</td>%s<td>%s</td></tr>'
                    % ("" if ok[j] else ' class="warn"', pt["point"], esc(pt["folder"]),
                       "".join("<td>%s</td>" % esc(v) for v in pt["params"]), esc(pt["exit_code"] or "none"),
                       cells, link))
    rows.append("</table>")
    body += ["<h2>Points</h2>",
             '<p class="note">Stats as written in <code>results.csv</code> (or, for a <code>--stat</code> that is '
             "not a column, in the point's <code>stats.json</code>). Each point's folder is an ordinary run: "
             "<code>hmmsim report</code> it for its own page (<code>--points</code> writes them all).</p>",
             "\n".join(rows)]
    numeric = [k for k in chosen if any(csv_number(v) is not None for v, g in zip(values[k], ok) if v and g)]
    body.append("<h2>Stats against the parameters</h2>")
    if not params:
        body.append('<p class="note">n/a: the sweep has no parameters.</p>')
    elif not numeric:
        body.append('<p class="note">n/a: no numeric stats among the passed points.</p>')
    else:
        xs = resolve_x(d, params, points)
        for k in numeric:
            body.append('<h3><code>%s</code></h3>' % esc(k))
            body.append(plot_sweep_stat(p, k, params, xs, points, values[k], ok))
    return page(title, "\n".join(body))


# --- main --------------------------------------------------------------------

def write(path, text):
    tmp = path + ".tmp"
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as e:
        print("hmmsim report: cannot write %s: %s" % (path, e), file=sys.stderr)
        sys.exit(2)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="hmmsim report", description=__doc__.split("\n")[0])
    ap.add_argument("outdir", help="a run's or a sweep's output folder")
    ap.add_argument("-o", "--output", help="the HTML file to write (default: OUTDIR/report.html)")
    ap.add_argument("--stat", action="append", default=[], metavar="KEY",
                    help="sweep: a stat to plot against the parameters (repeatable; default: every numeric "
                         "column of results.csv); run: an extra row of the key-figures table")
    ap.add_argument("--points", action="store_true", help="sweep: also write each point's own report.html")
    a = ap.parse_args(argv)
    d = a.outdir
    try:
        if not os.path.exists(d):
            fail("%s: no such folder" % d)
        if not os.path.isdir(d):
            fail("%s: not a folder (give a run's or a sweep's output folder)" % d)
        out = a.output or os.path.join(d, "report.html")
        if os.path.isfile(os.path.join(d, "results.csv")):
            text = sweep_report(d, out, a.stat, a.points, Plotter())
            kind = "sweep"
        elif os.path.isfile(os.path.join(d, "stats.json")):
            if a.points:
                fail("--points is for a sweep's folder; %s is a run's" % d)
            text = run_report(d, a.stat, Plotter())
            kind = "run"
        elif os.path.isfile(os.path.join(d, "sweep.json")):
            fail("%s: a sweep without results.csv yet: merge its points first "
                 "(build/release/hmmsim sweep collect %s)" % (d, d))
        elif os.path.isfile(os.path.join(d, "scenario.json")):
            fail("%s: a scenario's folder (scenario.json): reports cover experiment runs and sweeps" % d)
        else:
            fail("%s: not a run or sweep folder: no stats.json (a run) or results.csv (a sweep)" % d)
    except ReportError as e:
        print("hmmsim report: %s" % e, file=sys.stderr)
        return 2
    write(out, text)
    print("hmmsim report: %s report written to %s (%d KiB)" % (kind, out, (len(text.encode("utf-8")) + 1023) // 1024))
    return 0


if __name__ == "__main__":
    sys.exit(main())
