"""Stopping a local run from outside: Ctrl-C, SIGTERM and SIGHUP all end it the same way.

A runner stopped by Ctrl-C (SIGINT), by its terminal closing (SIGHUP), or by ``kill`` or a
service manager (SIGTERM) records its finished tasks and the run as cancelled, stops its
workers, and says how to resume. The handlers only take note of the signal; the scheduler's
loop calls `StopSignals.check` between events, which raises `Stopped` (a KeyboardInterrupt) at a
point where the run can wind down cleanly: an exception raised inside the handler itself can
land in a garbage collector callback, where Python ignores it. A second Ctrl-C while the run
winds down stops at once; a second SIGTERM or SIGHUP is ignored.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any

_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stopped(KeyboardInterrupt):
    """A signal asked the run to stop."""

    def __init__(self, signum: int) -> None:
        self.signal = signal.Signals(signum)
        super().__init__(self.signal.name)


def signal_name(interrupt: KeyboardInterrupt) -> str:
    """Which signal ``interrupt`` stands for."""
    return interrupt.signal.name if isinstance(interrupt, Stopped) else "SIGINT"


class StopSignals:
    """While entered (in the main thread), the stopping signals are noted for `check`."""

    def __init__(self) -> None:
        self.received: int | None = None
        self._previous: dict[int, Any] = {}

    def _note(self, signum: int, _frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signum
        elif signum == signal.SIGINT:
            raise Stopped(signum)

    def check(self) -> None:
        """Raise `Stopped` if a stopping signal arrived."""
        if self.received is not None:
            raise Stopped(self.received)

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            self._previous = {signum: signal.signal(signum, self._note) for signum in _SIGNALS}
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)


__all__ = ["StopSignals", "Stopped", "signal_name"]
