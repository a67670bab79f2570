"""SIGTERM and SIGINT for long-running commands, handled without taking a lock.

A handler runs in the main thread between two bytecodes, even inside another handler. One that
calls `threading.Event.set` takes the event's lock; a second signal arriving while the first
handler holds it (a supervisor repeating SIGTERM, Ctrl-C twice) then waits on that lock in the
same thread, for good. Seen: a worker that had finished its task hung on a repeated SIGTERM.
So the handler only records the request, and the main thread polls for it.
"""

from __future__ import annotations

import signal
import time

POLL_SECONDS = 0.2


class StopSignals:
    """Records SIGTERM/SIGINT from construction on (make it before starting any work)."""

    def __init__(self) -> None:
        self.asked = False
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._record)

    def _record(self, *_: object) -> None:
        self.asked = True

    def wait(self) -> None:
        """Block until one of the signals has come."""
        while not self.asked:
            time.sleep(POLL_SECONDS)
