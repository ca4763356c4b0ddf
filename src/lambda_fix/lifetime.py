"""A child process that ends with the process that started it, even when that one is killed by
SIGKILL and gets no chance to end its children: otherwise they would run on, holding the caller's
standard output open."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1


def end_with(parent: int, watch: bool = True) -> None:
    """End this process when parent ends: Linux kills it (PR_SET_PDEATHSIG); elsewhere, when watch, a
    thread notices. A parent already gone ends it at once."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            if ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
                watch = False
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the request was made
        os._exit(1)
    if watch:
        def watching() -> None:
            while os.getppid() == parent:
                time.sleep(1)
            os._exit(1)

        threading.Thread(target=watching, daemon=True).start()
