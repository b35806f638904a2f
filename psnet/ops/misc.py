"""Type casts, device copies, shape queries and histograms."""
import numbers

import numpy as np

from ..base import DTypeError, MXNetError, NotSupportedError, ShapeError, normalize_dtype
from .registry import register


@register("Cast", aliases=("cast",))
def cast(xp, data, dtype="float32"):
    """Convert to ``dtype``."""
    return data.astype(normalize_dtype(dtype))


@cast.def_grad
def _cast_grad(i, o, g, a):
    return [g[0].astype(i[0].dtype)]


# the float types AMP casts between; float64 and integer arrays pass through unchanged
_AMP_FLOATS = ("float16", "float32")


def _amp_float(dtype):
    return np.dtype(dtype).name in _AMP_FLOATS


def _amp_cast_type(attrs, in_types):
    """Symbol type rule: ``dtype`` for a float16/float32 input, the input's type otherwise."""
    t = in_types[0]
    if t is None:
        return None
    return [normalize_dtype(attrs["dtype"]) if _amp_float(t) else t]


@register("amp_cast", infer_type=_amp_cast_type)
def amp_cast(xp, data, *, dtype):
    """Mixed-precision cast: a float16/float32 ``data`` becomes ``dtype``; any other
    (float64, integers) passes through unchanged, as MXNet's AMP casts do."""
    if not _amp_float(data.dtype):
        return data.copy()
    return data.astype(normalize_dtype(dtype))


def _cast_back_grad(i, o, g, a):
    """Each head gradient cast back to its input's dtype."""
    return [gk.astype(x.dtype) for x, gk in zip(i, g)]


amp_cast.def_grad(_cast_back_grad)


def _amp_multicast_inputs(attrs):
    if "num_outputs" not in attrs:
        raise MXNetError("amp_multicast needs num_outputs (the number of inputs)")
    return ["data_%d" % k for k in range(int(attrs["num_outputs"]))]


def _amp_multicast_count(attrs):
    return int(attrs["num_outputs"])


def _amp_multicast_types(in_types, cast_narrow):
    """The output types: every float16/float32 type becomes the widest (narrowest) of them."""
    floats = [np.dtype(t) for t in in_types if _amp_float(t)]
    if not floats:
        return list(in_types)
    target = (min if cast_narrow else max)(floats, key=lambda d: d.itemsize)
    return [target if _amp_float(t) else t for t in in_types]


def _amp_multicast_type(attrs, in_types):
    if any(t is None for t in in_types):
        return None
    return _amp_multicast_types(in_types, attrs["cast_narrow"])


@register("amp_multicast", inputs=_amp_multicast_inputs, num_outputs=_amp_multicast_count,
          infer_type=_amp_multicast_type)
def amp_multicast(xp, *data, num_outputs, cast_narrow=False):
    """Cast every float16/float32 input to the widest of their types (the narrowest with
    ``cast_narrow``); float64 and integer inputs pass through unchanged.  One output per
    input: ``num_outputs`` is the number of inputs."""
    types = _amp_multicast_types([x.dtype for x in data], cast_narrow)
    return tuple(x.astype(t) if x.dtype != t else x.copy() for x, t in zip(data, types))


amp_multicast.def_grad(_cast_back_grad)


@register("cast_storage")
def cast_storage(xp, data, *, stype):
    """``data`` in storage type ``stype``: a copy for ``'default'`` (psnet stores arrays dense;
    ``'row_sparse'`` and ``'csr'`` are refused, naming the type)."""
    if stype != "default":
        raise NotSupportedError("cast_storage: psnet arrays are dense: storage type %r is not supported "
                                "(use 'default')" % (stype,))
    return data.copy()


@cast_storage.def_grad
def _cast_storage_grad(i, o, g, a):
    return [g[0]]


def _copyto(xp, data, ctx=None):
    """A copy on context ``ctx`` (recorded by NDArray.as_in_context; never dispatched)."""
    return data.copy()


_copyto = register("_copyto")(_copyto)


@_copyto.def_grad
def _copyto_grad(i, o, g, a):
    return [g[0].as_in_context(i[0].context)]


@register("shape_array")
def shape_array(xp, data):
    """The shape as a 1-d int64 array."""
    return xp.asarray(data.shape, dtype=xp.int64)


@register("size_array")
def size_array(xp, data):
    """The number of elements as a (1,) int64 array."""
    return xp.asarray([data.size], dtype=xp.int64)


def _histogram_inputs(attrs):
    """``data`` alone when the bins are a count (``bin_cnt``, an integer ``bins`` or no
    ``bins`` at all: 10); ``data`` and ``bins`` (the edges) otherwise."""
    bins = attrs.get("bins", 10)
    if attrs.get("bin_cnt") is not None or isinstance(bins, numbers.Integral):
        return ["data"]
    return ["data", "bins"]


def _histogram_shape(attrs, in_shapes):
    """(counts, edges) shapes: (n,) and (n + 1,) for n bins."""
    if len(in_shapes) == 2:
        edges = in_shapes[1]
        if edges is None:
            return None
        n = int(edges[0]) - 1
        return [in_shapes[0], tuple(edges)], [(n,), (n + 1,)]
    cnt = attrs.get("bin_cnt")
    n = int(cnt if cnt is not None else (attrs.get("bins") or 10))
    return [in_shapes[0]], [(n,), (n + 1,)]


@register("_histogram", aliases=("histogram",), inputs=_histogram_inputs, num_outputs=2,
          infer_shape=_histogram_shape)
def _histogram(xp, *arrays, bin_cnt=None, range=None, bins=None):
    """Histogram of the flattened ``data``: returns ``(counts, bin_edges)``.

    Called as MXNet's ``mx.nd.histogram(data, bins=10, range=None)``: ``bins`` an NDArray of
    edges (increasing, the last edge included) counts into those bins; ``bins`` an integer
    with ``range=(lo, hi)`` counts into equal bins over the range (values outside it are
    ignored), with int64 counts and edges of the data's dtype; an integer without ``range``
    spans the data's min to max as NumPy does and gives float32 counts and edges (MXNet
    computes that case with NumPy).  MXNet's registry form ``_histogram(data, bins)`` /
    ``_histogram(data, bin_cnt=n, range=(lo, hi))`` is the same op.
    """
    data = arrays[0]
    flat = data.reshape(-1)
    if len(arrays) == 2:
        edges = arrays[1]
        if edges.ndim != 1 or edges.shape[0] < 2:
            raise ShapeError("histogram: bins must be a 1-d array of at least 2 edges, got shape %s"
                             % (edges.shape,))
        if edges.dtype != data.dtype:
            raise DTypeError("histogram: the bin edges (%s) need the data's dtype (%s)"
                             % (edges.dtype, data.dtype))
        n = edges.shape[0] - 1
        idx = xp.searchsorted(edges, flat, side="right") - 1
        idx = xp.where(flat == edges[-1], n - 1, idx)
        idx = xp.where((flat < edges[0]) | (flat > edges[-1]), n, idx)
        counts = xp.bincount(idx.reshape(-1), minlength=n + 1)[:n].astype(xp.int64)
        return counts, edges.copy()
    count = bin_cnt if bin_cnt is not None else (10 if bins is None else bins)
    if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 1:
        raise MXNetError("histogram: the number of bins must be a positive integer, got %r" % (count,))
    count = int(count)
    if range is None:
        if bin_cnt is not None:
            raise MXNetError("histogram: bin_cnt=%d needs range=(lo, hi) as well" % count)
        return _data_range_histogram(xp, flat, count)
    lo, hi = (float(v) for v in range)
    if not lo <= hi:
        raise MXNetError("histogram: range=%r needs lo <= hi" % (tuple(range),))
    # edge i interpolates lo and hi in float64 and is stored in the data's dtype (as MXNet
    # does); a value in [lo, hi] falls in the bin whose edges hold it (the last includes hi)
    steps = xp.arange(count + 1, dtype=xp.float64)
    edges = ((steps * hi + (count - steps) * lo) / count).astype(data.dtype)
    x = flat.astype(xp.float64)
    idx = xp.clip(xp.searchsorted(edges, flat, side="right") - 1, 0, count - 1)
    idx = xp.where((x >= lo) & (x <= hi), idx, count)
    counts = xp.bincount(idx, minlength=count + 1)[:count].astype(xp.int64)
    return counts, edges


def _data_range_histogram(xp, flat, count):
    """NumPy's ``histogram(data, count)`` (edges over [min, max]) as float32 arrays."""
    kind = flat.dtype.kind
    work = flat if kind == "f" else flat.astype(xp.float64)
    if work.size:
        lo, hi = float(work.min()), float(work.max())
    else:
        lo, hi = 0.0, 1.0
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    edges = xp.linspace(lo, hi, count + 1, dtype=work.dtype)
    idx = xp.searchsorted(edges, work, side="right") - 1
    idx = xp.clip(idx, 0, count - 1)
    counts = xp.bincount(idx, minlength=count)[:count]
    return counts.astype(xp.float32), edges.astype(xp.float32)
