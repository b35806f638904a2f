"""psnet-launch: start a dist job's scheduler, servers and workers (local, ssh, mpi, slurm).

``python -m launcher.launch -n 2 -s 2 python train.py`` or the ``psnet-launch`` console
script.  :mod:`.launch` parses MXNet's tools/launch.py flags, :mod:`.cluster` turns them
into the processes to start, :mod:`.supervisor` runs those processes (prefixed output,
signal forwarding, exit status, cleanup) and :mod:`.rankrole` picks a process's role
from the rank variables of mpirun / srun.
"""
