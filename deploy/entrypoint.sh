#!/bin/sh
# Start this container's role of a psnet dist job, chosen by DMLC_ROLE:
#   scheduler -> python -m psnet.kvstore.dist.scheduler
#   server    -> python -m psnet.kvstore.dist.server  (extra arguments are passed on)
#   worker    -> the command given (default: examples/train_mnist.py)
# DMLC_RANK, when unset, comes from an indexed Job (JOB_COMPLETION_INDEX) or, with
# PSNET_RANK_FROM_HOSTNAME=1, from a StatefulSet pod name's ordinal (psnet-server-1 -> 1).
set -e
if [ -z "${DMLC_RANK:-}" ] && [ -n "${JOB_COMPLETION_INDEX:-}" ]; then
    DMLC_RANK="$JOB_COMPLETION_INDEX"
fi
if [ -z "${DMLC_RANK:-}" ] && [ "${PSNET_RANK_FROM_HOSTNAME:-0}" = "1" ]; then
    DMLC_RANK="${HOSTNAME##*-}"
fi
[ -n "${DMLC_RANK:-}" ] && export DMLC_RANK
case "${DMLC_ROLE:-worker}" in
    scheduler) exec python -m psnet.kvstore.dist.scheduler ;;
    server)
        # the image's default command is the worker's: a server keeps only its own options
        [ "${1:-}" = "python" ] && set --
        exec python -m psnet.kvstore.dist.server "$@" ;;
    worker) exec "$@" ;;
    *) echo "psnet-entrypoint: DMLC_ROLE=$DMLC_ROLE is not scheduler, server or worker" >&2; exit 2 ;;
esac
