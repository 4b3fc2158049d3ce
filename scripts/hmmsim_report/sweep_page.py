"""A sweep's page: the points' table and each stat plotted against the swept parameters."""
import csv
import math
import os

from .html_page import esc, page, write
from .run_page import run_report
from .stats_files import fail, literal, load_json, lookup, number


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
