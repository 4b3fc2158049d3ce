"""HTML: escaping, number formats, the page's frame and style, writing it."""
import html
import os
import sys


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


def write(path, text):
    tmp = path + ".tmp"
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as e:
        print("hmmsim report: cannot write %s: %s" % (path, e), file=sys.stderr)
        sys.exit(2)
