"""Start the server or scheduler role when psnet is imported with ``DMLC_ROLE`` set (as MXNet does).

MXNet's launchers run the *same* command for every role and rely on ``import mxnet``
turning a process with ``DMLC_ROLE=server`` or ``scheduler`` into that role: it serves
until the job ends and then exits without running the rest of the script.  psnet does
the same; set ``PSNET_ROLE_ON_IMPORT=0`` to turn it off.  Workers are never affected.
"""
import os
import sys

__all__ = ["start_role_on_import"]


def start_role_on_import():
    """Run this process's server/scheduler role, then exit; a no-op for workers or when disabled."""
    role = os.environ.get("DMLC_ROLE")
    if role not in ("server", "scheduler") or os.environ.get("PSNET_ROLE_ON_IMPORT", "1") == "0":
        return
    if role == "server":
        from .server import main
        # the command's own arguments are the script's: take only --updater from them
        code = main(sys.argv[1:], known_only=True)
    else:
        from .scheduler import main
        code = main([])
    sys.exit(code)
