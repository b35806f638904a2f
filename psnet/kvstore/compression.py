"""Gradient compression with error feedback: MXNet's '2bit' and the '1bit' scheme.

Each sender (a key on one device: the i-th value pushed for the key, as in MXNet) keeps a
residual.  On every push the residual is
added to the gradient, the sum is quantised, and what quantisation lost stays in the
residual for the next push, so nothing is discarded, only delayed:

* ``'2bit'`` (``threshold`` t > 0, default 0.5): ``x >= t`` sends ``+t``, ``x <= -t``
  sends ``-t``, anything else sends 0 (MXNet 1.9.1's semantics, bit for bit);
* ``'1bit'`` (``threshold`` default 0): ``x > threshold`` sends ``+1``, anything else
  ``-1`` (the 1-bit scheme of later MXNet versions).

The store dequantises (the values above are already the dequantised ones: psnet moves
the arrays in process, the dist stores pack the bits for the wire) and sums as usual.
"""
from ..base import MXNetError

__all__ = ["GradientCompression", "create_compression"]

_DEFAULT_THRESHOLD = {"2bit": 0.5, "1bit": 0.0}


class GradientCompression:
    """Quantiser plus the residual of each (key, device position)."""

    def __init__(self, kind, threshold):
        self.type = kind
        self.threshold = float(threshold)
        self._residuals = {}

    def get_params(self):
        """``{'type': ..., 'threshold': ...}``: what ``set_gradient_compression`` was given."""
        return {"type": self.type, "threshold": self.threshold}

    def compress(self, key, value, position=0):
        """The quantised value (a new array on the value's context) of NDArray ``value``, the
        ``position``-th value pushed for ``key``; updates that sender's residual in place."""
        data = value._data
        xp = value.context.backend.xp
        slot = (key, position)
        res = self._residuals.get(slot)
        if res is None or res.shape != data.shape:
            res = self._residuals[slot] = xp.zeros(data.shape, dtype=data.dtype)
        res += data
        t = data.dtype.type(self.threshold)
        if self.type == "2bit":
            q = xp.where(res >= t, t, xp.where(res <= -t, -t, data.dtype.type(0)))
        else:
            one = data.dtype.type(1)
            q = xp.where(res > t, one, -one)
        res -= q
        return q.astype(data.dtype, copy=False)

    def residual(self, key, position=0):
        """The residual of the ``position``-th sender of ``key`` (a backend array), or None
        before its first push."""
        return self._residuals.get((key, position))


def create_compression(params):
    """A :class:`GradientCompression` from ``{'type': '2bit'|'1bit'|'none', 'threshold': t}``.

    ``'none'`` gives None (compression off).
    """
    if not isinstance(params, dict) or "type" not in params:
        raise MXNetError("compression_params must be a dict with a 'type' ('2bit', '1bit' or "
                         "'none'), got %r" % (params,))
    kind = str(params["type"]).lower()
    if kind == "none":
        return None
    if kind not in _DEFAULT_THRESHOLD:
        raise MXNetError("unknown gradient compression type %r; psnet supports '2bit', '1bit' "
                         "and 'none'" % (params["type"],))
    extra = set(params) - {"type", "threshold"}
    if extra:
        raise MXNetError("unknown gradient compression parameter(s) %s" % ", ".join(sorted(extra)))
    threshold = float(params.get("threshold", _DEFAULT_THRESHOLD[kind]))
    if kind == "2bit" and threshold <= 0:
        raise MXNetError("2bit gradient compression needs threshold > 0, got %g" % threshold)
    return GradientCompression(kind, threshold)
