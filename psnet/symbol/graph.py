"""The graph IR shared by ``mx.sym``, ``hybridize()`` and the executor.

A graph is a set of :class:`Node` objects.  A variable node has ``op is None``; an
operator node holds the registry :class:`~psnet.ops.registry.Op`, the name it was
called by (``op_name``, which may be an alias, kept for JSON), its attributes as
Python values (``attrs``, only those the user gave) and their MXNet string form
(``sattrs``), user attributes such as ``__shape__`` or ``__lr_mult__`` (``uattrs``)
and its inputs as ``(node, output_index)`` entries.  A :class:`~psnet.symbol.Symbol`
is a list of such entries (its outputs).
"""
import ast
import threading

import numpy as np

from ..base import MXNetError

__all__ = ["Node", "topo_order", "attr_to_str", "str_to_attr", "NameManager", "Prefix",
           "current_name_manager", "entry_name"]


class Node:
    """One vertex of the graph: a variable (``op is None``) or an operator call."""

    __slots__ = ("op", "op_name", "name", "attrs", "sattrs", "uattrs", "inputs", "_full")

    def __init__(self, op, name, attrs=None, inputs=(), uattrs=None, op_name=None, sattrs=None):
        self.op = op
        self.op_name = op_name or (op.name if op is not None else "null")
        self.name = name
        self.attrs = dict(attrs or {})
        self.sattrs = sattrs if sattrs is not None else {k: attr_to_str(v) for k, v in self.attrs.items()}
        self.uattrs = dict(uattrs or {})
        self.inputs = list(inputs)
        self._full = None

    @property
    def is_var(self):
        """Whether this node is a variable (an argument or an auxiliary state)."""
        return self.op is None

    def full_attrs(self):
        """The operator attributes with every default filled in (cached)."""
        if self._full is None:
            try:
                self._full = self.op.full_attrs(self.attrs)
            except MXNetError as e:
                raise MXNetError("node %s: %s" % (self.name, e)) from None
        return self._full

    def num_outputs(self):
        """All outputs of the node (hidden ones included); 1 for a variable."""
        return 1 if self.op is None else self.op.n_outputs(self.full_attrs())

    def num_visible(self):
        """Outputs the user sees; 1 for a variable."""
        return 1 if self.op is None else self.op.n_visible(self.full_attrs())

    def n_args(self):
        """How many leading inputs are arguments (the rest are auxiliary states)."""
        return len(self.inputs) - (len(self.op.aux) if self.op is not None else 0)

    def copy(self):
        """A shallow copy (same input entries, new containers)."""
        return Node(self.op, self.name, self.attrs, self.inputs, self.uattrs, self.op_name, dict(self.sattrs))

    def __repr__(self):
        return "<Node %s %s>" % (self.op_name, self.name)


def entry_name(node, k):
    """The public name of output ``k`` of ``node`` (``fc1_output``, ``data``...)."""
    if node.op is None:
        return node.name
    return "%s_%s" % (node.name, node.op.output_names(node.full_attrs())[k])


# MXNet's mixed-precision casts, which Symbol.save(remove_amp_cast=True) leaves out
AMP_CAST_OPS = ("amp_cast", "amp_multicast")


def without_amp_casts(heads):
    """The ``(node, k)`` heads of a copy of the graph in which every ``amp_cast`` /
    ``amp_multicast`` is bypassed (output k replaced by the op's input k); ``heads``
    itself when the graph has none.  Variables are shared, operator nodes copied."""
    nodes = topo_order(heads)
    if not any(n.op_name in AMP_CAST_OPS for n in nodes):
        return list(heads)
    copies = {}

    def resolve(node, k):
        while node.op_name in AMP_CAST_OPS:
            node, k = node.inputs[k]
        return copies[id(node)], k
    for n in nodes:                      # inputs before the nodes that read them
        if n.op is None:
            copies[id(n)] = n
        elif n.op_name not in AMP_CAST_OPS:
            copies[id(n)] = Node(n.op, n.name, n.attrs, [resolve(c, k) for c, k in n.inputs],
                                 uattrs=n.uattrs, op_name=n.op_name, sattrs=n.sattrs)
    return [resolve(n, k) for n, k in heads]


def topo_order(heads):
    """Nodes reachable from the ``(node, k)`` entries ``heads`` in MXNet's DFS post-order
    (each node after its inputs, inputs visited left to right)."""
    order, seen = [], set()
    for head, _ in heads:
        if id(head) in seen:
            continue
        seen.add(id(head))
        stack = [(head, iter(head.inputs))]
        while stack:
            node, it = stack[-1]
            for child, _ in it:
                if id(child) not in seen:
                    seen.add(id(child))
                    stack.append((child, iter(child.inputs)))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


# ------------------------------------------------------------------ attribute strings
def attr_to_str(value):
    """MXNet's string form of an attribute value (``(3, 3)``, ``True``, ``float32``...)."""
    if isinstance(value, str):
        return value
    if isinstance(value, type) or isinstance(value, np.dtype):
        return np.dtype(value).name
    if isinstance(value, np.generic):
        value = value.item()
    return str(value)


def str_to_attr(text):
    """Parse an attribute string back into a Python value; unparseable text stays a string."""
    if not isinstance(text, str):
        return text
    low = text.strip()
    if low in ("true", "false"):
        return low == "true"
    try:
        return ast.literal_eval(low)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text


# ------------------------------------------------------------------ automatic names
class NameManager:
    """Gives operators without a name MXNet's automatic names (``fullyconnected0``...).

    Use as a context manager to scope a fresh counter::

        with mx.name.NameManager():
            ...
    """

    _local = threading.local()

    def __init__(self):
        self._counter = {}
        self._old = None

    def get(self, name, hint):
        """``name`` when given, else ``hint`` followed by a per-hint counter."""
        if name:
            return name
        k = self._counter.get(hint, 0)
        self._counter[hint] = k + 1
        return "%s%d" % (hint, k)

    def __enter__(self):
        self._old = current_name_manager()
        NameManager._local.value = self
        return self

    def __exit__(self, *exc):
        NameManager._local.value = self._old


class Prefix(NameManager):
    """A name manager that prepends ``prefix`` to every name (given or automatic)."""

    def __init__(self, prefix):
        super().__init__()
        self._prefix = prefix

    def get(self, name, hint):
        """The name with the prefix in front."""
        return self._prefix + super().get(name, hint)


def current_name_manager():
    """The active :class:`NameManager` (a process-wide default one outside ``with`` blocks)."""
    m = getattr(NameManager._local, "value", None)
    if m is None:
        m = NameManager._local.value = NameManager()
    return m
