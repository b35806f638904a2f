"""MXNet's JSON graph format: ``Symbol.tojson``, ``mx.sym.load_json`` and ``mx.sym.load``.

Layout (as MXNet 1.x writes it): ``nodes`` in topological order, each
``{"op", "name", "attrs", "inputs": [[node, output, version], ...]}`` with every attribute
a string and ``"op": "null"`` for variables; ``arg_nodes`` (indices of the variables),
``node_row_ptr`` (prefix sums of each node's output count), ``heads`` and the version
attribute.  Older files with ``param``/``attr`` instead of ``attrs`` load too.
"""
import json

from ..base import MXNetError
from ..ops import registry
from .graph import Node, str_to_attr, topo_order
from .symbol import Symbol

__all__ = ["to_json", "load_json", "load"]

MXNET_VERSION = 10901


def to_json(sym):
    """The JSON text of ``sym``, formatted exactly as MXNet writes it (so files compare
    equal); loading it back gives a graph whose JSON is identical."""
    nodes = topo_order(sym._outputs)
    index = {id(n): i for i, n in enumerate(nodes)}
    texts, row_ptr = [], [0]
    for n in nodes:
        items = [("op", _str(n.op_name)), ("name", _str(n.name))]
        attrs = dict(n.sattrs)
        attrs.update(n.uattrs)
        if attrs:
            items.append(("attrs", _obj([(k, _str(attrs[k])) for k in sorted(attrs)], 3, len(attrs) > 1)))
        n_args = n.n_args()
        entries = [_entry_text([index[id(c)], k, int(i >= n_args)]) for i, (c, k) in enumerate(n.inputs)]
        items.append(("inputs", _arr(entries, 3)))
        texts.append(_obj(items, 2, True))
        row_ptr.append(row_ptr[-1] + n.num_outputs())
    doc = [
        ("nodes", _arr(texts, 1, True)),
        ("arg_nodes", _arr([str(i) for i, n in enumerate(nodes) if n.op is None], 1)),
        ("node_row_ptr", _arr([str(r) for r in row_ptr], 1)),
        ("heads", _arr([_entry_text([index[id(n)], k, 0]) for n, k in sym._outputs], 1)),
        ("attrs", _obj([("mxnet_version", '["int", %d]' % MXNET_VERSION)], 1, False)),
    ]
    return _obj(doc, 0, True)


# MXNet's writer (dmlc JSONWriter): objects of several entries and arrays of more than ten
# elements span lines, one element per line ending in ", "; smaller ones stay inline.
def _str(text):
    return json.dumps(text)


def _entry_text(entry):
    return "[%d, %d, %d]" % tuple(entry)


def _obj(items, level, multi_line):
    if not multi_line:
        return "{" + ", ".join("%s: %s" % (_str(k), v) for k, v in items) + "}"
    pad = "  " * (level + 1)
    return "{\n" + ", \n".join("%s%s: %s" % (pad, _str(k), v) for k, v in items) + "\n" + "  " * level + "}"


def _arr(texts, level, multi_line=None):
    if multi_line is None:
        multi_line = len(texts) > 10
    if not multi_line:
        return "[" + ", ".join(texts) + "]"
    pad = "  " * (level + 1)
    return "[\n" + ", \n".join(pad + t for t in texts) + "\n" + "  " * level + "]"


def _split_attrs(op, attrs):
    """(op attributes as strings, user attributes) of a loaded node."""
    sattrs, uattrs = {}, {}
    open_ended = op.open_attrs  # forward takes **attrs (Custom): any keyword is an attribute
    for k, v in attrs.items():
        is_op_attr = k in op.params or (open_ended and not (k.startswith("__") and k.endswith("__")))
        (sattrs if is_op_attr else uattrs)[k] = str(v)
    return sattrs, uattrs


def load_json(json_str):
    """The Symbol described by MXNet JSON text; an unknown operator is an error naming it."""
    try:
        doc = json.loads(json_str)
        specs, heads = doc["nodes"], doc["heads"]
    except (ValueError, KeyError, TypeError) as e:
        raise MXNetError("load_json: not an MXNet symbol JSON (%s)" % e) from None
    nodes = []
    for i, spec in enumerate(specs):
        attrs = dict(spec.get("attrs") or {})
        attrs.update(spec.get("param") or {})
        attrs.update(spec.get("attr") or {})
        op_name = spec["op"]
        inputs = [(nodes[e[0]], e[1]) for e in spec.get("inputs", [])]
        if op_name == "null":
            nodes.append(Node(None, spec["name"], uattrs={k: str(v) for k, v in attrs.items()}))
            continue
        try:
            op = registry.get(op_name)
        except MXNetError:
            raise MXNetError("load_json: node %d (%s) uses operator %r, which psnet does not have"
                             % (i, spec["name"], op_name)) from None
        sattrs, uattrs = _split_attrs(op, attrs)
        node = Node(op, spec["name"], {k: str_to_attr(v) for k, v in sattrs.items()}, inputs,
                    uattrs, op_name, sattrs)
        nodes.append(node)
    return Symbol([(nodes[h[0]], h[1]) for h in heads])


def load(fname):
    """The Symbol saved in file ``fname`` (by ``Symbol.save`` or MXNet)."""
    from ..storage import open_uri
    with open_uri(fname, "r") as f:
        return load_json(f.read())
