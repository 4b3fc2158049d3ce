"""A run's page: header, key figures, plots, batch stages, every stats.json value."""
import csv
import math
import os

from .html_page import FORMATS, esc, fmt_bytes, fmt_ns, fmt_pct, page
from .run_plots import (epoch_lengths_ns, kernel_spans, plot_distributions, plot_pcie, plot_run_timeline,
                        plot_stages, plot_tlb, plot_vram)
from .stats_files import Num, fail, flatten, literal, load_json, lookup, number

# The driver's batch pipeline, in order (host/gpu_driver/batch_stages.h);
# stages stats.json has beyond these follow in its order.
STAGES = ["fetch", "preprocess", "range_fault", "migrate", "allocate", "copy", "pte_write", "invalidate", "replay"]
TLB_LEVELS = [("l1", "L1"), ("l15", "L1.5"), ("l2", "L2")]


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


def stage_order(stats):
    sums = lookup(stats, "driver.batch.stage_ns")
    names = list(sums) if isinstance(sums, dict) else []
    return [s for s in STAGES if s in names] + [s for s in names if s not in STAGES]


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
