"""Authentication and encryption of a dist job with ZeroMQ's CURVE mechanism.

A job is secured by one **cluster key**: a CURVE secret key (40 Z85 characters) shared by
every node; its public key is derived from it.  Give it to every process through
``PSNET_CLUSTER_SECRET`` (the Z85 text itself, e.g. from a Kubernetes Secret) or
``PSNET_CLUSTER_KEY_FILE`` (a file holding it, written by ``psnet-launch keygen FILE`` or
``python -m psnet.kvstore.dist.security keygen FILE``).  Then every listening socket is a
CURVE server that accepts only peers presenting the cluster's public key (checked by a
ZAP handler in libzmq's handshake), and every connecting socket is a CURVE client:
traffic is encrypted and a peer without the key never gets a message through.

Without a key nothing is authenticated; :func:`warn_if_exposed` then warns when a node
binds an address other than loopback.
"""
import argparse
import ipaddress
import os
import sys
import threading
import warnings

import zmq

from ...base import MXNetError, env_str

__all__ = ["SecurityError", "ClusterKey", "ENV_SECRET", "ENV_KEY_FILE", "load_cluster_key",
           "write_key_file", "secure_server", "secure_client", "warn_if_exposed", "main"]

ENV_SECRET = "PSNET_CLUSTER_SECRET"
ENV_KEY_FILE = "PSNET_CLUSTER_KEY_FILE"
_Z85_KEY_LEN = 40


class SecurityError(MXNetError, PermissionError):
    """A cluster key that cannot be used (malformed, unreadable, CURVE unavailable)."""


class ClusterKey:
    """The job's CURVE key pair (Z85 ``bytes``): every node holds the same one."""

    __slots__ = ("public", "secret")

    def __init__(self, secret):
        secret = secret.strip() if isinstance(secret, bytes) else secret.strip().encode()
        if len(secret) != _Z85_KEY_LEN:
            raise SecurityError("a cluster secret is %d Z85 characters, got %d (generate one with "
                                "psnet-launch keygen)" % (_Z85_KEY_LEN, len(secret)))
        if not zmq.has("curve"):
            raise SecurityError("this libzmq was built without CURVE support; cannot secure the job")
        try:
            self.public = zmq.curve_public(secret)
        except (zmq.ZMQError, ValueError) as e:
            raise SecurityError("the cluster secret is not a valid Z85 CURVE key: %s" % e) from None
        self.secret = secret

    @classmethod
    def generate(cls):
        """A fresh random cluster key."""
        return cls(zmq.curve_keypair()[1])


def load_cluster_key():
    """The cluster key from ``PSNET_CLUSTER_SECRET`` or ``PSNET_CLUSTER_KEY_FILE``; None when unset."""
    secret = env_str(ENV_SECRET)
    if secret:
        return ClusterKey(secret)
    path = env_str(ENV_KEY_FILE)
    if not path:
        return None
    try:
        with open(path, "rb") as f:
            return ClusterKey(f.read())
    except OSError as e:
        raise SecurityError("%s=%s cannot be read: %s" % (ENV_KEY_FILE, path, e)) from None


def write_key_file(path, key=None):
    """Write ``key`` (a new one when None) to ``path``, readable by its owner only; returns it."""
    key = key or ClusterKey.generate()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.secret + b"\n")
    os.chmod(path, 0o600)
    return key


class _OnlyClusterKey:
    """ZAP credentials provider: a client is accepted iff it presents the cluster public key."""

    def __init__(self, public):
        self.public = public

    def callback(self, domain, client_key):
        """pyzmq's authenticator asks this for every CURVE handshake."""
        return client_key == self.public


_AUTH = {}
_AUTH_LOCK = threading.Lock()


def _authenticator(ctx, key):
    """Start (once per context) the ZAP handler that admits only the cluster key."""
    from zmq.auth.thread import ThreadAuthenticator
    with _AUTH_LOCK:
        auth = _AUTH.get(id(ctx))
        if auth is None or auth.context is not ctx:   # a new context may reuse a dead one's id
            auth = ThreadAuthenticator(ctx, log=_quiet_logger())
            auth.start()
            auth.configure_curve_callback(domain="*", credentials_provider=_OnlyClusterKey(key.public))
            _AUTH[id(ctx)] = auth
        return auth


def _quiet_logger():
    import logging
    log = logging.getLogger("psnet.kvstore.dist.zap")
    log.setLevel(logging.WARNING)
    return log


def secure_server(sock, key):
    """Make ``sock`` (before bind) a CURVE server admitting only ``key``'s holders; no-op for None."""
    if key is None:
        return sock
    _authenticator(sock.context, key)
    sock.curve_secretkey = key.secret
    sock.curve_publickey = key.public
    sock.curve_server = True
    return sock


def secure_client(sock, key):
    """Make ``sock`` (before connect) a CURVE client of a cluster secured by ``key``; no-op for None."""
    if key is None:
        return sock
    sock.curve_secretkey = key.secret
    sock.curve_publickey = key.public
    sock.curve_serverkey = key.public
    return sock


def warn_if_exposed(host, key, who):
    """Warn when ``who`` binds ``host`` beyond loopback with no cluster key configured."""
    if key is not None:
        return False
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        warnings.warn("%s listens on %s without authentication: anyone who reaches it can push "
                      "into the job; set %s or %s (psnet-launch keygen) to require CURVE"
                      % (who, host, ENV_SECRET, ENV_KEY_FILE), RuntimeWarning, stacklevel=2)
        return True
    return False


def main(argv=None):
    """``python -m psnet.kvstore.dist.security keygen FILE``: write a new cluster key file."""
    p = argparse.ArgumentParser(prog="psnet-launch keygen",
                                description="Write a new CURVE cluster key (mode 0600) for a secured job.")
    p.add_argument("command", choices=["keygen"])
    p.add_argument("file", help="where to write the key, e.g. cluster.key")
    args = p.parse_args(argv)
    write_key_file(args.file)
    print("wrote %s; give every node %s=%s (or %s=<its contents>)"
          % (args.file, ENV_KEY_FILE, os.path.abspath(args.file), ENV_SECRET))
    return 0


if __name__ == "__main__":
    sys.exit(main())
