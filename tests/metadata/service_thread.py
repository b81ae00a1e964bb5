"""A real uvicorn server of the metadata app in a thread of the test process (as httpx's own
tests serve in a thread), restartable on the same port for outage tests."""

from __future__ import annotations

import threading
import time

import uvicorn
from fastapi import FastAPI


class ServiceThread:
    """Serve ``app`` on 127.0.0.1 (a free port, kept across `stop` and `start`)."""

    def __init__(self, app: FastAPI, port: int = 0) -> None:
        self.app = app
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, app: FastAPI | None = None, timeout: float = 20.0) -> None:
        """Start serving (``app`` replaces the one served before, as a restarted process would)."""
        self.app = app or self.app
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start on port {self.port}")
            time.sleep(0.02)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(20)
        self._server = self._thread = None


__all__ = ["ServiceThread"]
