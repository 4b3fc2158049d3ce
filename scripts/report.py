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
import os
import sys

# The code is in hmmsim_report/ beside this script, which is run by its path;
# no __pycache__ is left in the source tree.
sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
sys.dont_write_bytecode = True
from hmmsim_report.html_page import write
from hmmsim_report.plotter import Plotter
from hmmsim_report.run_page import run_report
from hmmsim_report.stats_files import ReportError, fail
from hmmsim_report.sweep_page import sweep_report


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
