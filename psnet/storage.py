"""URL-aware file access: plain paths use the builtin ``open`` and ``os``; URLs go to fsspec.

Every psnet function that reads or writes a file by name (``mx.nd.save``/``load``,
``save_parameters``/``load_parameters``, ``export``/``SymbolBlock.imports``,
checkpoints, ``Symbol.save``/``mx.sym.load``, optimizer-state files, dataset roots)
opens it through :func:`open_uri`, so any of them accepts ``s3://bucket/key``,
``hdfs://``, ``gs://``, ``az://``, ``memory://`` or ``file://`` URLs.

fsspec is an optional dependency, imported only when a URL is used; the remote
filesystems need their own packages (s3fs, gcsfs, adlfs, pyarrow for HDFS).  A missing
one raises :class:`MissingDependencyError` naming the package to install.
"""
import errno
import os
import posixpath
import re

from .base import MXNetError

__all__ = ["MissingDependencyError", "is_url", "open_uri", "exists", "isdir", "listdir", "makedirs",
           "join", "expanduser"]

_URL = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*)://")

# scheme -> the package implementing it for fsspec
PACKAGES = {"s3": "s3fs", "s3a": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "az": "adlfs", "abfs": "adlfs",
            "abfss": "adlfs", "adl": "adlfs", "hdfs": "pyarrow", "viewfs": "pyarrow",
            "http": "aiohttp", "https": "aiohttp"}


class MissingDependencyError(MXNetError, ImportError):
    """A URL whose scheme needs an optional package that is not installed."""


def is_url(path):
    """Whether ``path`` is a URL (``scheme://...``) rather than a local path."""
    return isinstance(path, str) and _URL.match(path) is not None


def _scheme(url):
    return _URL.match(url).group(1).lower()


def _missing(url, package, err):
    install = "fsspec" if package == "fsspec" else "fsspec " + package
    detail = "" if err is None else " [%s]" % err
    return MissingDependencyError("%s: the %s:// scheme needs the optional package %s (pip install %s)%s"
                                  % (url, _scheme(url), package, install, detail))


def _fs(url):
    """(fsspec filesystem, path within it) for ``url``."""
    try:
        import fsspec
    except ImportError:
        raise _missing(url, "fsspec", None) from None
    try:
        return fsspec.core.url_to_fs(url)
    except ImportError as e:
        raise _missing(url, PACKAGES.get(_scheme(url), "an fsspec implementation"), e) from None
    except ValueError as e:
        raise MXNetError("%s: fsspec cannot open this URL: %s" % (url, e)) from None


def open_uri(path, mode="rb"):
    """A file object for ``path`` (a local path or a URL) in ``mode``, usable with ``with``.

    Local paths open with the builtin ``open`` (no fsspec import).  For URLs the parent
    "directory" is created when writing, as object stores need none and local ones do.
    """
    path = os.fspath(path)
    if not is_url(path):
        return open(path, mode)
    fs, inner = _fs(path)
    if "w" in mode or "a" in mode:
        parent = posixpath.dirname(inner)
        if parent:
            fs.makedirs(parent, exist_ok=True)
    try:
        return fs.open(inner, mode)
    except FileNotFoundError:
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path) from None


def exists(path):
    """Whether ``path`` (local or URL) exists."""
    if not is_url(path):
        return os.path.exists(path)
    fs, inner = _fs(path)
    return fs.exists(inner)


def isdir(path):
    """Whether ``path`` (local or URL) is a directory."""
    if not is_url(path):
        return os.path.isdir(path)
    fs, inner = _fs(path)
    return fs.isdir(inner)


def listdir(path):
    """The entry names (not paths) directly under directory ``path``."""
    if not is_url(path):
        return os.listdir(path)
    fs, inner = _fs(path)
    return [posixpath.basename(p.rstrip("/")) for p in fs.ls(inner, detail=False)]


def makedirs(path, exist_ok=True):
    """Create directory ``path`` and its parents (local or URL)."""
    if not is_url(path):
        os.makedirs(path, exist_ok=exist_ok)
        return
    fs, inner = _fs(path)
    fs.makedirs(inner, exist_ok=exist_ok)


def join(base, *parts):
    """``base`` joined with ``parts``: ``/`` for URLs, ``os.path.join`` for local paths."""
    if is_url(base):
        return posixpath.join(base, *parts)
    return os.path.join(base, *parts)


def expanduser(path):
    """``~`` expanded in local paths; URLs unchanged."""
    return path if is_url(path) else os.path.expanduser(path)
