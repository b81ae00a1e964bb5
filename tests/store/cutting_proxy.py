"""A TCP proxy for tests that forwards a fixed number of request bytes, then cuts every connection.

It stands for a network or a server that dies in the middle of an upload: what the client sent
before the cut really reached the S3 server; after it, connections are reset and refused. With
``stall=True`` it stands for one that hangs instead: past the budget nothing more is forwarded,
and the connections stay open until the proxy is closed.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType


class CuttingProxy:
    """Forward 127.0.0.1:<port> to ``upstream`` until ``budget`` request bytes went through."""

    def __init__(self, upstream: tuple[str, int], budget: int, *, stall: bool = False) -> None:
        self._upstream = upstream
        self._budget = budget
        self._stall = stall
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.cut = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> CuttingProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._cut()

    def _accept(self) -> None:
        while not self.cut.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.cut.is_set():
                client.close()
                return
            server = socket.create_connection(self._upstream)
            with self._lock:
                self._sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, counted: bool) -> None:
        try:
            while data := source.recv(1 << 16):
                if counted:
                    with self._lock:
                        allowed = min(len(data), self._budget)
                        self._budget -= allowed
                    target.sendall(data[:allowed])
                    if allowed < len(data):
                        if self._stall:
                            self.cut.wait()  # hold the connection open, forwarding nothing
                        self._cut()
                        return
                else:
                    target.sendall(data)
        except OSError:
            return

    def _cut(self) -> None:
        self.cut.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()


__all__ = ["CuttingProxy"]
