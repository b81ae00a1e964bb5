"""Throttling of failed authentication: one client address guessing tokens gets 429.

After `AuthThrottle.max_failures` unknown tokens from one address within `AuthThrottle.window`
seconds, that address is refused (429 with Retry-After) until the window ends, and its tokens
are no longer looked up. A token the service accepted lately still passes (see
`ServiceState.scope_of`), so valid clients behind the same address are not held up. Counts live
in this process's memory. Behind a proxy every client has the proxy's address unless uvicorn
trusts its ``X-Forwarded-For`` (``--forwarded-allow-ips``).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

_MAX_ADDRESSES = 10_000
"""Addresses remembered before expired windows are swept out."""


@dataclass
class AuthThrottle:
    """Failed authentications per client address, in fixed windows."""

    max_failures: int = 10
    window: float = 60.0
    _windows: dict[str, tuple[float, int]] = field(default_factory=dict)
    """Address -> (when its window ends, failures in it)."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def retry_after(self, address: str) -> float | None:
        """Seconds until ``address`` may authenticate again; None if it may now."""
        with self._lock:
            ends, failures = self._windows.get(address, (0.0, 0))
        remaining = ends - time.monotonic()
        return remaining if failures >= self.max_failures and remaining > 0 else None

    def failed(self, address: str) -> None:
        """Count a failed authentication from ``address``."""
        now = time.monotonic()
        with self._lock:
            ends, failures = self._windows.get(address, (0.0, 0))
            if ends <= now:
                ends, failures = now + self.window, 0
            self._windows[address] = (ends, failures + 1)
            if len(self._windows) > _MAX_ADDRESSES:
                self._windows = {a: w for a, w in self._windows.items() if w[0] > now}


__all__ = ["AuthThrottle"]
