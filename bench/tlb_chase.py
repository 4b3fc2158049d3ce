#!/usr/bin/env python3
"""Sweep the tlb-chase microbenchmark: ns per access against footprint.

Runs hmmsim on configs/microbench/tlb-chase.yaml once per (curve, footprint).
A curve is a page size (driver.vram_chunk: 4KiB, 64KiB or 2MiB, so the
driver writes PTEs of that size) and a stride. Each run sets the buffer to
the footprint, the stride of both kernels, and host.ram / gpu.vram.capacity
large enough to hold it (capacity does not change timing).

ns/access is the steady-state figure (k1 - k2) / (loads1 - loads2): the
measured kernel k1 (--passes, default 8) minus the reference k2 (1 pass).
The buffer stays mapped from kernel to kernel, so the config's k0 leaves
the TLBs and walk cache warm and k1 and k2 start alike; the difference
drops what a kernel costs besides its hops (launch, drain). ns/access(k1)
is kernels.k1.time_ns / kernels.k1.gpu.loads.
Hit rates and walk reads are per access over the same difference.

Prints a CSV on stdout (and --csv FILE), then the footprints where the
latency steps up; writes a PNG (--png) when matplotlib is importable.
Python 3 standard library only. Not a test: CTest never runs this.

  bench/tlb_chase.py                                   # default curves
  bench/tlb_chase.py --include configs/gpus/v100.yaml  # on a GPU preset
  bench/tlb_chase.py --curve 4k:4k --footprints 64KiB,256KiB,1MiB --set gpu.tlb.l1.entries=16
"""
import argparse
import concurrent.futures
import csv
import io
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KI, MI, GI = 1 << 10, 1 << 20, 1 << 30
PAGE = {"4k": 4 * KI, "64k": 64 * KI, "2m": 2 * MI}
CHUNK = {"4k": "4KiB", "64k": "64KiB", "2m": "2MiB"}

# page size : stride : footprints (first..last, powers of two). The 4 KiB
# stride shows L1 and L2 reach; the 2 MiB stride on 4 KiB pages puts every
# hop in its own page-directory (PD0) range, so the walk cache's 32 PD0
# entries (64 MiB) show too; 64 KiB and 2 MiB pages move reach out 16x, 512x.
DEFAULT_CURVES = ["4k:4k:16KiB:64MiB", "4k:2m:8MiB:512MiB", "64k:64k:256KiB:256MiB", "2m:2m:8MiB:4GiB"]


def parse_bytes(text):
    m = re.fullmatch(r"\s*(\d+)\s*(B|KiB|MiB|GiB|k|m|g)?\s*", text, re.I)
    if not m:
        raise argparse.ArgumentTypeError("not a size: " + text)
    unit = (m.group(2) or "B").lower()
    return int(m.group(1)) * {"b": 1, "kib": KI, "k": KI, "mib": MI, "m": MI, "gib": GI, "g": GI}[unit]


def human(n):
    for unit, div in (("GiB", GI), ("MiB", MI), ("KiB", KI)):
        if n >= div and n % div == 0:
            return "%d%s" % (n // div, unit)
    return "%dB" % n


class Curve:
    def __init__(self, text, footprints=None):
        parts = text.lower().split(":")
        if len(parts) not in (2, 4) or parts[0] not in PAGE:
            raise argparse.ArgumentTypeError("curve is page:stride[:first:last], page 4k|64k|2m: " + text)
        self.page = parts[0]
        self.stride = parse_bytes(parts[1])
        if footprints:
            self.footprints = [f for f in footprints if f >= self.stride and f % self.stride == 0]
        else:
            first, last = (parse_bytes(p) for p in parts[2:]) if len(parts) == 4 else (16 * self.stride, 1024 * self.stride)
            self.footprints = []
            f = first
            while f <= last:
                self.footprints.append(f)
                f *= 2

    @property
    def label(self):
        return "%s pages, stride %s" % (human(PAGE[self.page]), human(self.stride))


def run_point(args, curve, footprint):
    kernel = "{synthetic: tlb_chase, buffer: chain, stride: %d, width: 8, compute_per_access: 0, iterations: %d}"
    steps = "[{kernel: %s}, {kernel: %s}, {kernel: %s}]" % (kernel % (curve.stride, 1), kernel % (curve.stride, args.passes),
                                                           kernel % (curve.stride, 1))
    room = footprint + footprint // 4 + 64 * MI  # page tables, and the allocator's chunks
    sets = [
        "workload.buffers=[{name: chain, bytes: %d, placement: device}]" % footprint,
        "workload.steps=" + steps,
        "driver.vram_chunk=" + CHUNK[curve.page],
        "host.ram=%dMiB" % (room // MI),
        "gpu.vram.capacity=%dMiB" % (room // MI),
    ] + args.set
    with tempfile.TemporaryDirectory(prefix="tlb_chase_") as tmp:
        config = args.config
        if args.include:
            # Preset first, the microbenchmark on top (later files win).
            config = os.path.join(tmp, "with_preset.yaml")
            with open(config, "w") as f:
                f.write("include: [%s, %s]\n" % (json.dumps(os.path.abspath(args.include)),
                                                 json.dumps(os.path.abspath(args.config))))
        cmd = [args.hmmsim, "run", config, "-q", "--out", os.path.join(tmp, "out")]
        for s in sets:
            cmd += ["--set", s]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            sys.exit("hmmsim exited %d for %s footprint %s:\n%s" % (r.returncode, curve.label, human(footprint), r.stdout))
        with open(os.path.join(tmp, "out", "stats.json")) as f:
            stats = json.load(f)
    k1, k2 = stats["kernels"]["k1"], stats["kernels"]["k2"]

    def delta(path):
        def get(k):
            for p in path.split("."):
                k = k.get(p, {}) if isinstance(k, dict) else 0
            return k if isinstance(k, (int, float)) else 0
        return get(k1) - get(k2)

    loads = delta("gpu.loads")
    return {
        "page_size": PAGE[curve.page],
        "stride": curve.stride,
        "footprint": footprint,
        "ns_per_access": delta("time_ns") / loads,
        "ns_per_access_k1": k1["time_ns"] / k1["gpu"]["loads"],
        "l1_hit_rate": delta("gpu.tlb.l1.hits") / loads,
        "l2_hit_rate": delta("gpu.tlb.l2.hits") / loads,
        "walk_reads_per_access": delta("gpu.gmmu.walk_reads") / loads,
    }


def steps(rows, jump):
    """Footprints whose latency is `jump` ns or more above the point before."""
    out = []
    for a, b in zip(rows, rows[1:]):
        if b["ns_per_access"] - a["ns_per_access"] >= jump:
            out.append((a["footprint"], b["footprint"], b["ns_per_access"] - a["ns_per_access"]))
    return out


def plot(curves, results, args):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not importable: no plot written", file=sys.stderr)
        return
    fig, ax = plt.subplots(figsize=(9, 5.2))
    for c in curves:
        rows = results[id(c)]
        ax.plot([r["footprint"] for r in rows], [r["ns_per_access"] for r in rows], marker="o", ms=3, label=c.label)
    # Reach of each level at stride = page size, for the entry counts given.
    marks = [("L1", args.l1_entries), ("L2", args.l2_entries)]
    colors = {"4k": "C0", "64k": "C2", "2m": "C3"}
    height = {"4k": 0.02, "64k": 0.3, "2m": 0.02}  # 4 MiB and 64 MiB carry two marks each
    shown = {c.page for c in curves if c.stride == PAGE[c.page]}
    for page in sorted(shown, key=lambda p: PAGE[p]):
        for name, entries in marks:
            x = entries * PAGE[page]
            ax.axvline(x, color=colors[page], ls=":", lw=1)
            ax.annotate("%s reach %s" % (name, human(x)), (x, height[page]), xycoords=("data", "axes fraction"),
                        rotation=90, fontsize=7, color=colors[page], ha="right", va="bottom")
    if any(c.page == "4k" and c.stride >= 2 * MI for c in curves):
        x = args.pwc_pd0 * 2 * MI
        ax.axvline(x, color="C1", ls="--", lw=1)
        ax.annotate("walk cache PD0 reach %s" % human(x), (x, 0.55), xycoords=("data", "axes fraction"),
                    rotation=90, fontsize=7, color="C1", ha="right", va="bottom")
    ax.set_xscale("log", base=2)
    ticks = sorted({r["footprint"] for rows in results.values() for r in rows})
    ticks = [t for t in ticks if (t.bit_length() - 1) % 2 == 0] or ticks
    ax.set_xticks(ticks)
    ax.set_xticklabels([human(t) for t in ticks], rotation=45, fontsize=8)
    ax.set_xlabel("footprint")
    ax.set_ylabel("ns per access (steady state)")
    ax.set_title(args.title)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(args.png, dpi=110)
    print("plot written to " + args.png, file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hmmsim", default=os.path.join(ROOT, "build", "release", "hmmsim"))
    p.add_argument("--config", default=os.path.join(ROOT, "configs", "microbench", "tlb-chase.yaml"))
    p.add_argument("--include", help="a GPU preset (configs/gpus/*.yaml) merged under the config")
    p.add_argument("--curve", action="append", type=str,
                   help="page:stride[:first:last], e.g. 4k:4k:16KiB:64MiB (repeatable; default: %s)"
                   % " ".join(DEFAULT_CURVES))
    p.add_argument("--footprints", help="comma-separated footprints for every curve (instead of first:last)")
    p.add_argument("--passes", type=int, default=8, help="passes of the measured kernel k1 (default 8)")
    p.add_argument("--set", action="append", default=[], help="extra --set for hmmsim (repeatable)")
    p.add_argument("-j", "--jobs", type=int, default=1, help="runs in parallel (default 1)")
    p.add_argument("--csv", help="also write the CSV here")
    p.add_argument("--png", default=os.path.join(ROOT, "docs", "img", "tlb-chase.png"))
    p.add_argument("--no-plot", action="store_true")
    p.add_argument("--title", default="tlb-chase: one dependent chain (default TLBs and walk cache, fixed-latency VRAM)")
    p.add_argument("--jump", type=float, default=3.0, help="ns rise reported as a step (default 3)")
    p.add_argument("--l1-entries", type=int, default=64, help="for the reach marks on the plot")
    p.add_argument("--l2-entries", type=int, default=1024, help="for the reach marks on the plot")
    p.add_argument("--pwc-pd0", type=int, default=32, help="walk-cache PD0 entries, for the plot")
    args = p.parse_args()
    if args.passes < 2:
        p.error("--passes must be at least 2")
    if not os.access(args.hmmsim, os.X_OK):
        p.error("no hmmsim binary at %s (build it, or give --hmmsim)" % args.hmmsim)
    fps = [parse_bytes(x) for x in args.footprints.split(",")] if args.footprints else None
    curves = [Curve(c, fps) for c in (args.curve or DEFAULT_CURVES)]

    jobs = [(c, f) for c in curves for f in c.footprints]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        rows = list(ex.map(lambda j: run_point(args, *j), jobs))
    results = {id(c): [] for c in curves}
    for (c, _), r in zip(jobs, rows):
        results[id(c)].append(r)

    fields = ["page_size", "stride", "footprint", "ns_per_access", "ns_per_access_k1", "l1_hit_rate",
              "l2_hit_rate", "walk_reads_per_access"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(fields)
    for r in rows:
        w.writerow([r[k] if isinstance(r[k], int) else "%.3f" % r[k] for k in fields])
    sys.stdout.write(buf.getvalue())
    if args.csv:
        with open(args.csv, "w") as f:
            f.write(buf.getvalue())
    for c in curves:
        found = steps(results[id(c)], args.jump)
        print("# %s: steps %s" % (c.label, ", ".join("%s->%s +%.1f ns" % (human(a), human(b), d) for a, b, d in found)
                                  or "none"), file=sys.stderr)
    if not args.no_plot:
        os.makedirs(os.path.dirname(os.path.abspath(args.png)), exist_ok=True)
        plot(curves, results, args)


if __name__ == "__main__":
    main()
