"""Reading stats.json, config.json and sweep.json, numbers kept as the file wrote them."""
import json


class ReportError(Exception):
    """Bad input: exit 2 with this message."""


def fail(msg):
    raise ReportError(msg)


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
