"""``mx.viz``: a network's layer table (:func:`print_summary`) and its drawing (:func:`plot_network`).

``plot_network`` uses the optional ``graphviz`` Python package (imported when called);
rendering files also needs Graphviz's ``dot`` program (Debian package ``graphviz``).
"""
import json

import numpy as np

from .base import NotSupportedError

__all__ = ["print_summary", "plot_network"]

def _graph(symbol, shape):
    """(JSON nodes, {entry name: shape}) of ``symbol`` with shapes inferred from ``shape``."""
    nodes = json.loads(symbol.tojson())["nodes"]
    shapes = {}
    if shape:
        internals = symbol.get_internals()
        _, out_shapes, _ = internals.infer_shape_partial(**shape)
        shapes = {n: s for n, s in zip(internals.list_outputs(), out_shapes) if s}
    return nodes, shapes


def _entry(node):
    return node["name"] if node["op"] == "null" else node["name"] + "_output"


def _is_input(idx, node, shape):
    """Whether a variable is a data/label input rather than a parameter."""
    name = node["name"]
    return idx == 0 or name in (shape or {}) or name.endswith("label")


def print_summary(symbol, shape=None, line_length=120, positions=(.44, .64, .74, 1.)):
    """Print each layer's name (type), output shape (without the batch axis), parameter
    count and inputs, then the total parameter count, in MXNet's table layout.

    ``shape``: ``{input name: shape}``; without it shapes and most counts stay unknown.
    """
    nodes, shapes = _graph(symbol, shape)
    cols = [int(line_length * p) if p <= 1 else int(p) for p in positions]

    def row(fields):
        line = ""
        for text, end in zip(fields, cols):
            line = (line + str(text))[:end]
            line += " " * (end - len(line))
        print(line)

    print("_" * line_length)
    row(["Layer (type)", "Output Shape", "Param #", "Previous Layer"])
    print("=" * line_length)
    aux = set(symbol.list_auxiliary_states())
    total = 0
    layers = [(i, n) for i, n in enumerate(nodes) if n["op"] != "null" or i == 0]
    for k, (i, node) in enumerate(layers):
        prev, params = [], 0
        for src, _, _ in node.get("inputs", []):
            inp = nodes[src]
            if inp["op"] != "null" or src == 0:
                prev.append(inp["name"])
            elif not _is_input(src, inp, shape) and inp["name"] not in aux:
                s = shapes.get(inp["name"])
                params += int(np.prod(s)) if s else 0
        total += params
        out = shapes.get(_entry(node))
        row(["%s(%s)" % (node["name"], node["op"]), "x".join(str(d) for d in out[1:]) if out else "",
             params, prev[0] if prev else ""])
        for p in prev[1:]:
            row(["", "", "", p])
        print(("=" if k == len(layers) - 1 else "_") * line_length)
    print("Total params: %d" % total)
    print("_" * line_length)


def _label(node):
    """The text MXNet puts in a node's box."""
    op, a = node["op"], node.get("attrs", {})
    if op == "null":
        return node["name"]
    if op == "Convolution":
        return "Convolution\n%s/%s, %s" % ("x".join(_ints(a.get("kernel"))), "x".join(_ints(a.get("stride"), "1")),
                                           a.get("num_filter"))
    if op == "FullyConnected":
        return "FullyConnected\n%s" % a.get("num_hidden")
    if op in ("Activation", "LeakyReLU"):
        return "%s\n%s" % (op, a.get("act_type", "leaky"))
    if op == "Pooling":
        return "Pooling\n%s, %s/%s" % (a.get("pool_type", "max"), "x".join(_ints(a.get("kernel"))),
                                       "x".join(_ints(a.get("stride"), "1")))
    return op


def _ints(text, default=""):
    if not text:
        return [default] if default else []
    return [t.strip() for t in text.strip("()[]").split(",") if t.strip()]


_COLORS = {"Convolution": "#fb8072", "FullyConnected": "#fb8072", "BatchNorm": "#bebada",
           "Activation": "#ffffb3", "LeakyReLU": "#ffffb3", "Pooling": "#80b1d3",
           "Concat": "#fdb462", "Flatten": "#fdb462", "Reshape": "#fdb462", "SoftmaxOutput": "#b3de69"}


def plot_network(symbol, title="plot", save_format="pdf", shape=None, dtype=None, node_attrs=None,
                 hide_weights=True):
    """A ``graphviz.Digraph`` of the network (edges labelled with shapes when ``shape`` is
    given); ``hide_weights`` leaves out parameter variables; ``dtype`` is accepted for
    MXNet compatibility (float32 graphs only need shapes).  Needs the ``graphviz`` package."""
    try:
        from graphviz import Digraph
    except ImportError:
        raise NotSupportedError("mx.viz.plot_network needs the optional Python package 'graphviz' "
                                "(pip install graphviz; rendering also needs Graphviz's dot program, "
                                "e.g. apt-get install graphviz)") from None
    nodes, shapes = _graph(symbol, shape)
    attrs = {"shape": "box", "fixedsize": "true", "width": "1.3", "height": "0.8034", "style": "filled"}
    attrs.update(node_attrs or {})
    dot = Digraph(name=title, format=save_format)
    hidden = set()
    for i, node in enumerate(nodes):
        if node["op"] == "null" and hide_weights and not _is_input(i, node, shape):
            hidden.add(i)
            continue
        color = "#8dd3c7" if node["op"] == "null" else _COLORS.get(node["op"], "#fccde5")
        dot.node(name=node["name"], label=_label(node), **dict(attrs, fillcolor=color))
    for i, node in enumerate(nodes):
        if node["op"] == "null":
            continue
        for src, _, _ in node["inputs"]:
            if src in hidden:
                continue
            inp = nodes[src]
            s = shapes.get(_entry(inp))
            extra = {"label": "x".join(str(d) for d in s[1:])} if s else {}
            dot.edge(tail_name=node["name"], head_name=inp["name"], dir="back", arrowtail="open", **extra)
    return dot
