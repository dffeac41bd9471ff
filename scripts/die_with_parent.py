"""`python die_with_parent.py PARENT_PID COMMAND [ARG...]`: exec COMMAND so that it gets SIGTERM
when its parent (the thread of PARENT_PID that started it) dies, even by SIGKILL.

scripts/run.py starts its children through this on Linux: they live in sessions of their own, so
without it a killed or crashed run.py would leave them running (the port held, a second worker).
It sets `prctl(PR_SET_PDEATHSIG, SIGTERM)`, which survives exec, then execs COMMAND in this same
process (same pid). A wrapper rather than Popen's `preexec_fn`: that runs Python between fork and
exec while run.py's output threads hold locks, which may deadlock the child.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def main(argv: list[str]) -> None:
    parent_pid, command = int(argv[0]), argv[1:]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        # Not fatal: the command still runs, only without the guarantee.
        error = ctypes.get_errno()
        print(f"die_with_parent: prctl failed: {os.strerror(error)}", file=sys.stderr, flush=True)
    elif os.getppid() != parent_pid:
        # The parent died before prctl took effect: no signal will come.
        sys.exit(1)
    os.execvp(command[0], command)  # noqa: S606 - run.py's own argv, no shell


if __name__ == "__main__":
    main(sys.argv[1:])
