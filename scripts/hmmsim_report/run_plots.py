"""A run's plots: over time from timeseries.csv, and of stats.json's batch stages, TLBs and distributions."""
import itertools

from .html_page import fmt_count
from .stats_files import literal, lookup, number

# One colour per timeseries.csv column, the same in every plot.
COLOURS = {"faults": "C0", "batches": "C1", "pages_to_vram": "C2", "pages_to_sysmem": "C3", "pages_evicted": "C4",
           "cpu_migrate_backs": "C5", "pcie_down_bytes": "C0", "pcie_up_bytes": "C1"}


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
