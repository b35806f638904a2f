"""``mx.gluon.utils``: splitting batches over devices, gradient clipping, verified downloads."""
import hashlib
import math
import os
import time
import urllib.error
import urllib.request
import uuid
import warnings

import numpy as np

from ..base import MXNetError, ShapeError, env_str
from ..ndarray import NDArray, array, from_backend

__all__ = ["split_data", "split_and_load", "clip_global_norm", "check_sha1", "download",
           "shape_is_known", "replace_file", "DownloadError"]

_DEFAULT_REPO = "https://apache-mxnet.s3-accelerate.dualstack.amazonaws.com/"


class DownloadError(MXNetError, OSError):
    """A file could not be downloaded (offline, HTTP error) or its checksum did not match."""


def split_data(data, num_slice, batch_axis=0, even_split=True):
    """Split ``data`` into ``num_slice`` slices along ``batch_axis``.

    With ``even_split=False`` the first ``size % num_slice`` slices get one more sample
    (slices may be empty when there are fewer samples than slices).
    """
    size = data.shape[batch_axis]
    if even_split and size % num_slice != 0:
        raise ShapeError("data with shape %s cannot be evenly split into %d slices along axis %d. Use a "
                         "batch size that's multiple of %d or set even_split=False to allow uneven "
                         "partitioning of data." % (data.shape, num_slice, batch_axis, num_slice))
    each, extras = divmod(size, num_slice)
    points = np.cumsum([0] + [each + 1] * extras + [each] * (num_slice - extras)).tolist()
    index = [slice(None)] * data.ndim
    out = []
    for lo, hi in zip(points[:-1], points[1:]):
        index[batch_axis] = slice(lo, hi)
        out.append(data[tuple(index)] if batch_axis else data[lo:hi])
    return out


def split_and_load(data, ctx_list, batch_axis=0, even_split=True):
    """Split ``data`` along ``batch_axis`` and put slice ``i`` on ``ctx_list[i]``.

    ``data`` may be an NDArray or anything ``mx.nd.array`` takes.  Several ``mx.cpu(i)``
    contexts behave like separate devices.
    """
    if not isinstance(data, NDArray):
        data = array(data, ctx=ctx_list[0])
    if len(ctx_list) == 1:
        return [data.as_in_context(ctx_list[0])]
    slices = split_data(data, len(ctx_list), batch_axis, even_split)
    return [s.as_in_context(ctx) for s, ctx in zip(slices, ctx_list)]


def clip_global_norm(arrays, max_norm, check_isfinite=True):
    """Scale ``arrays`` in place so that their joint 2-norm is at most ``max_norm``.

    Returns the norm before clipping: a float when ``check_isfinite`` (which also warns
    when the norm is NaN or infinite), else a one-element NDArray on the first array's
    context.
    """
    if not arrays:
        raise ShapeError("clip_global_norm needs at least one array")
    sq = 0.0
    for arr in arrays:
        arr.context.backend.activate()  # CuPy computes on the current device
        d = arr._data
        sq += float(arr.context.backend.asnumpy((d * d).sum()))
    total_norm = math.sqrt(sq)
    if check_isfinite and not math.isfinite(total_norm):
        warnings.warn(UserWarning("nan or inf is detected. Clipping results will be undefined."), stacklevel=2)
    scale = max_norm / (total_norm + 1e-8)
    if scale < 1.0:
        for arr in arrays:
            arr.context.backend.activate()
            arr._data *= arr._data.dtype.type(scale)
    dtype = arrays[0]._data.dtype
    if check_isfinite:
        return dtype.type(total_norm)
    ctx = arrays[0].context
    return from_backend(ctx.backend.from_numpy(np.array([total_norm], dtype=dtype)), ctx)


def check_sha1(filename, sha1_hash):
    """Whether the SHA-1 of the file's content equals ``sha1_hash`` (hex)."""
    return _file_digest(filename, "sha1") == sha1_hash


def _file_digest(filename, algorithm):
    h = hashlib.new(algorithm)
    with open(filename, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def shape_is_known(shape):
    """Whether every dimension of ``shape`` is known (MXNet 1.x marks unknown ones by 0)."""
    if shape is None or len(shape) == 0:
        return False
    for dim in shape:
        if dim == 0 or dim == -1:
            return False
        if dim < 0:
            raise ShapeError("shape %s has the invalid dimension %d" % (tuple(shape), dim))
    return True


def replace_file(src, dst):
    """Move ``src`` over ``dst`` atomically (replacing it when it exists)."""
    os.replace(src, dst)


def download(url, path=None, overwrite=False, sha1_hash=None, retries=5, verify_ssl=True, timeout=60):
    """Download ``url`` to ``path`` (a file or a directory; default: the URL's file name here).

    An existing file is kept unless ``overwrite`` or its SHA-1 differs from ``sha1_hash``.
    The download goes to a temporary file that replaces the target only when complete
    and (with ``sha1_hash``) verified.  Returns the file name; raises
    :class:`DownloadError` naming the URL when offline or when the checksum differs.
    """
    if path is None:
        fname = url.split("/")[-1]
    elif os.path.isdir(path) or path.endswith(os.sep):
        fname = os.path.join(path, url.split("/")[-1])
    else:
        fname = path
    if retries < 0:
        raise MXNetError("download: retries must be >= 0, got %d" % retries)
    if not overwrite and os.path.exists(fname) and (not sha1_hash or check_sha1(fname, sha1_hash)):
        return fname
    dirname = os.path.dirname(os.path.abspath(os.path.expanduser(fname)))
    os.makedirs(dirname, exist_ok=True)
    context = None
    if not verify_ssl:
        import ssl
        context = ssl._create_unverified_context()  # the caller asked for it explicitly
    last_error = None
    for attempt in range(retries + 1):
        tmp = "%s.%s.part" % (fname, uuid.uuid4().hex[:8])
        try:
            with urllib.request.urlopen(url, timeout=timeout, context=context) as resp, open(tmp, "wb") as out:
                for chunk in iter(lambda: resp.read(1 << 20), b""):
                    out.write(chunk)
            if sha1_hash and not check_sha1(tmp, sha1_hash):
                raise DownloadError("file %s downloaded from %s has SHA-1 %s, expected %s; the mirror may "
                                    "be outdated or the download incomplete"
                                    % (fname, url, _file_digest(tmp, "sha1"), sha1_hash))
            replace_file(tmp, fname)
            return fname
        except (urllib.error.URLError, OSError) as e:
            last_error = e
            if attempt < retries:
                time.sleep(min(2 ** attempt, 8) * 0.1)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    if isinstance(last_error, DownloadError):
        raise last_error
    raise DownloadError("cannot download %s to %s (%s: %s); if this machine is offline, put the file "
                        "there by hand" % (url, fname, type(last_error).__name__, last_error)) from None


def get_repo_url():
    """Base URL of the dataset/model repository: $PSNET_GLUON_REPO, $MXNET_GLUON_REPO or MXNet's."""
    url = env_str("PSNET_GLUON_REPO") or env_str("MXNET_GLUON_REPO") or _DEFAULT_REPO
    return url if url.endswith("/") else url + "/"


def get_repo_file_url(namespace, filename):
    """URL of ``filename`` under ``namespace`` in the repository (``gluon/dataset/mnist``...)."""
    return "%s%s/%s" % (get_repo_url(), namespace, filename)
