"""Window geometry shared by convolution and pooling: attribute parsing, padding,
im2col (a strided view copied once into a GEMM operand) and col2im (its adjoint).

Layouts are channels-first (``NCW``, ``NCHW``, ``NCDHW``); ``nd`` below is the number of
spatial dimensions.  The column matrix produced by :func:`im2col` has shape
``(C * prod(kernel), N * prod(out))``, with rows ordered ``(c, k0, k1, ...)`` to match
MXNet's weight layout ``(num_filter, C, *kernel)`` flattened, and columns ordered
``(n, o0, o1, ...)``.  Building it is one copy of a strided view whose innermost axis
walks the output positions; no Python loop touches pixels.

:func:`im2col_last` builds the transposed, channels-last matrix ``(N * prod(out),
prod(kernel) * C)`` (columns ordered ``(k0, k1, ..., c)``) from a channels-last padded
copy of the input: its strided view copies runs of ``kernel[-1] * C`` contiguous values
instead of ``out[-1]``, several times faster once there are a few channels.
:func:`col2im_last` is its adjoint.
"""
import itertools
import math

import numpy as np

from ..base import ShapeError
from .attrs import int_tuple

__all__ = ["spatial_tuple", "out_size", "pad_spatial", "im2col", "col2im", "im2col_last", "col2im_last",
           "kernel_offsets", "window_slices", "placeholder", "useful_taps"]


def spatial_tuple(value, nd, default, name, op):
    """``value`` (int, tuple, list or MXNet's string form ``'(2, 2)'``) as an ``nd``-tuple of
    ints; an empty value gives ``(default,) * nd``.  Errors name the op and attribute."""
    if value is None or value == () or value == [] or value == "" or value == "()":
        return (default,) * nd
    vals = int_tuple(op, name, value)
    if len(vals) == 1 and nd > 1:
        vals = vals * nd
    if len(vals) != nd:
        raise ShapeError("%s: attribute %s=%s has %d values but the input has %d spatial "
                         "dimension(s)" % (op, name, vals, len(vals), nd))
    return vals


def placeholder(shape):
    """A zero-strided float32 NumPy array of ``shape`` (no memory), for shape inference."""
    return np.lib.stride_tricks.as_strided(np.zeros(1, np.float32), shape=tuple(shape),
                                           strides=(0,) * len(shape))


def out_size(size, kernel, stride, dilate, pad, ceil=False):
    """Number of window positions along one axis (MXNet's convolution / pooling rule)."""
    span = dilate * (kernel - 1) + 1
    num = size + 2 * pad - span
    return (-(-num // stride) if ceil else num // stride) + 1


def pad_spatial(xp, x, before, after=None, value=0):
    """``x`` (N, C, *spatial) padded with ``value``: ``before[i]`` in front of spatial axis i
    and ``after[i]`` (default ``before[i]``) behind it.  No copy when nothing is padded."""
    after = before if after is None else after
    if not any(before) and not any(after):
        return x
    shape = x.shape[:2] + tuple(s + b + a for s, b, a in zip(x.shape[2:], before, after))
    out = xp.full(shape, value, dtype=x.dtype)
    out[(Ellipsis,) + tuple(slice(b, b + s) for b, s in zip(before, x.shape[2:]))] = x
    return out


def useful_taps(sizes, kernel, stride, dilate, pad, out):
    """Per spatial axis, the range ``(t0, t1)`` of kernel taps that see at least one real
    (not padding) element in some output window.  A tap outside it multiplies only zeros
    (a 3x3 kernel with pad 1 on a 1x1 input uses its centre tap alone), so convolution can
    skip it.  Leading taps are dropped only while ``t0 * dilate <= pad`` (so the data's
    position inside the padded array stays non-negative)."""
    taps = []
    for n, k, s, d, p, o in zip(sizes, kernel, stride, dilate, pad, out):
        used = []
        for t in range(k):
            first = max(0, -(-(p - t * d) // s))   # first window whose tap t is at or after the data
            if first < o and t * d + s * first < p + n:
                used.append(t)
        t0, t1 = (used[0], used[-1] + 1) if used else (0, k)
        taps.append((t0 if t0 * d <= p else 0, t1))
    return tuple(taps)


def kernel_offsets(kernel):
    """Every kernel position ``(k0, k1, ...)`` in row-major order (a loop over the kernel,
    never over pixels)."""
    return itertools.product(*[range(k) for k in kernel])


def window_slices(offset, out, stride, dilate):
    """The spatial slices picking, for kernel position ``offset``, the element each output
    window sees (as a strided view of the padded input)."""
    return tuple(slice(o * d, o * d + s * (n - 1) + 1, s)
                 for o, n, s, d in zip(offset, out, stride, dilate))


def im2col(xp, xpad, kernel, stride, dilate, out):
    """The column matrix ``(C*K, N*L)`` of the already padded ``xpad`` (N, C, *spatial)."""
    n, c = xpad.shape[:2]
    nd = len(kernel)
    st = xpad.strides
    shape = (c,) + tuple(kernel) + (n,) + tuple(out)
    strides = ((st[1],) + tuple(st[2 + i] * dilate[i] for i in range(nd)) + (st[0],)
               + tuple(st[2 + i] * stride[i] for i in range(nd)))
    view = xp.lib.stride_tricks.as_strided(xpad, shape=shape, strides=strides)
    return xp.ascontiguousarray(view).reshape(c * math.prod(kernel), n * math.prod(out))


def col2im(xp, cols, n, c, padded, kernel, stride, dilate, out):
    """The adjoint of :func:`im2col`: scatter-add ``cols`` (C*K, N*L) into a zero array of
    shape (N, C, *padded) and return it."""
    view = cols.reshape((c,) + tuple(kernel) + (n,) + tuple(out))
    acc = xp.zeros((c, n) + tuple(padded), dtype=cols.dtype)
    for off in kernel_offsets(kernel):
        acc[(slice(None), slice(None)) + window_slices(off, out, stride, dilate)] += view[(slice(None),) + off]
    return acc.transpose((1, 0) + tuple(range(2, 2 + len(kernel))))


def _padded_last(xp, data, pad):
    """(N, *padded, C): ``data`` (N, C, *spatial) moved to channels-last and zero-padded,
    in one copy."""
    n, c = data.shape[:2]
    sizes = tuple(sz + 2 * p for sz, p in zip(data.shape[2:], pad))
    moved = xp.moveaxis(data, 1, -1)
    if not any(pad):
        return xp.ascontiguousarray(moved)
    out = xp.zeros((n,) + sizes + (c,), dtype=data.dtype)
    out[(slice(None),) + tuple(slice(p, p + sz) for p, sz in zip(pad, data.shape[2:]))] = moved
    return out


def im2col_last(xp, data, taps, stride, dilate, pad, out):
    """The channels-last column matrix ``(N*L, K*C)`` of ``data`` (N, C, *spatial) padded by
    ``pad``, for the kernel taps ``taps[i] = (t0, t1)`` of each spatial axis (see
    :func:`useful_taps`)."""
    n, c = data.shape[:2]
    nd = len(taps)
    xl = _padded_last(xp, data, pad)
    xl = xl[(slice(None),) + tuple(slice(t0 * d, None) for (t0, _), d in zip(taps, dilate))]
    st = xl.strides
    kernel = tuple(t1 - t0 for t0, t1 in taps)
    shape = (n,) + tuple(out) + kernel + (c,)
    strides = ((st[0],) + tuple(st[1 + i] * stride[i] for i in range(nd))
               + tuple(st[1 + i] * dilate[i] for i in range(nd)) + (st[-1],))
    view = xp.lib.stride_tricks.as_strided(xl, shape=shape, strides=strides)
    return xp.ascontiguousarray(view).reshape(n * math.prod(out), math.prod(kernel) * c)


def col2im_last(xp, cols, shape, taps, stride, dilate, pad, out):
    """The adjoint of :func:`im2col_last`, from its matrix in tap-major order: ``cols``
    (K, N*L, C) scatter-added (one vectorised add of a contiguous block per kernel tap)
    into the gradient of the (N, C, *spatial) input of ``shape``."""
    n, c = shape[:2]
    acc = xp.zeros((n,) + tuple(sz + 2 * p for sz, p in zip(shape[2:], pad)) + (c,), dtype=cols.dtype)
    view = cols.reshape((cols.shape[0], n) + tuple(out) + (c,))
    for k, off in enumerate(kernel_offsets(tuple(t1 - t0 for t0, t1 in taps))):
        tap = tuple(o + t0 for o, (t0, _) in zip(off, taps))
        acc[(slice(None),) + window_slices(tap, out, stride, dilate)] += view[k]
    crop = acc[(slice(None),) + tuple(slice(p, p + sz) for p, sz in zip(pad, shape[2:]))]
    return xp.ascontiguousarray(xp.moveaxis(crop, -1, 1))
