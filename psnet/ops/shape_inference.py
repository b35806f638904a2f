"""Shape inference for the Symbol layer, attached to ops that do not define their own.

``infer_shape(attrs, in_shapes) -> (in_shapes, out_shapes)``: ``in_shapes`` has one
entry per input (arguments, then auxiliary states), None where unknown; the result
fills what the op's semantics determine, in particular the *parameter* shapes from
the data shape (BatchNorm's gamma/beta/moving statistics, Embedding's weight, a loss
head's label), which is how ``mx.sym`` and ``hybridize()`` infer deferred parameter
shapes.  :func:`attach` sets these on the registered ops whose ``infer_shape`` is
still None (an op's author may define a better one next to the op).
"""
from . import registry

__all__ = ["attach", "RULES"]


def _channel_params(axis_default, n_params):
    """Rule for a normalisation op: every parameter has shape (C,), C = data.shape[axis]."""
    def infer(attrs, in_shapes):
        data = in_shapes[0]
        if data is None:
            return None
        c = data[int(attrs.get("axis", axis_default)) % len(data)]
        return [tuple(data)] + [(c,)] * n_params, [tuple(data)]
    return infer


def _embedding(attrs, in_shapes):
    weight = (int(attrs["input_dim"]), int(attrs["output_dim"]))
    data = in_shapes[0]
    return [data, weight], [None if data is None else tuple(data) + (weight[1],)]


def _softmax_output(attrs, in_shapes):
    data = in_shapes[0]
    if data is None:
        return None
    if attrs.get("multi_output", False):
        label = (data[0],) + tuple(data[2:])
    elif attrs.get("preserve_shape", False):
        label = tuple(data[:-1])
    else:
        label = (data[0],)
    if in_shapes[1] is not None and tuple(in_shapes[1]) == tuple(data):
        label = tuple(data)   # probability labels
    return [tuple(data), label], [tuple(data)]


def _same_as_data(attrs, in_shapes):
    data = in_shapes[0]
    if data is None:
        return None
    label = in_shapes[1]
    if label is not None and tuple(label) != tuple(data) and _size(label) == _size(data):
        return [tuple(data), tuple(label)], [tuple(data)]
    return [tuple(data), tuple(data)], [tuple(data)]


def _size(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def _prelu(attrs, in_shapes):
    data = in_shapes[0]
    if data is None:
        return None
    if attrs.get("act_type", "leaky") != "prelu":
        return [tuple(data)], [tuple(data)]
    gamma = in_shapes[1] if in_shapes[1] is not None else ((data[1],) if len(data) > 1 else (1,))
    return [tuple(data), tuple(gamma)], [tuple(data)]


RULES = {
    "BatchNorm": _channel_params(1, 4),
    "LayerNorm": _channel_params(-1, 2),
    "InstanceNorm": _channel_params(1, 2),
    "Embedding": _embedding,
    "SoftmaxOutput": _softmax_output,
    "LinearRegressionOutput": _same_as_data,
    "LogisticRegressionOutput": _same_as_data,
    "MAERegressionOutput": _same_as_data,
    "LeakyReLU": _prelu,
}


def attach():
    """Give every registered op named in :data:`RULES` its rule, unless it has its own."""
    for name, rule in RULES.items():
        try:
            op = registry.get(name)
        except KeyError:
            continue
        if op.infer_shape is None:
            op.infer_shape = rule
