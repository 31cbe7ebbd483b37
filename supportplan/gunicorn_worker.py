"""gunicorn's sync worker, closing a connection at once when its request was read to the end.

gunicorn 27's sync worker ends every connection with ``util.close_graceful``: it half-closes, then
waits (up to 2 s) until the client closes its side, draining whatever the client still sends. That
protects an early answer (a 413 sent before the body was read) from the TCP reset a close with
unread data causes, which can destroy the answer in the client's buffers. When the request was read
to its last byte and nothing more has arrived, there is nothing to drain and no reset to fear, and
the wait only keeps the worker from its next request: a network round trip per request for a
distant client, 4–6 % of a worker's time in the ingestion bench. Such a connection is closed at
once, as gunicorn closed every connection before 27; every other one still closes gracefully.

The answer is written corked (``TCP_CORK``, Linux): gunicorn sends the status line and headers,
then the body, with a ``sendall`` each; corked, the kernel sends them as full segments, and the
last one when the worker uncorks after the answer, instead of one delivery for the headers and
another for a small body (a loopback delivery costs the sender's CPU: 5 % of a worker's time in the
ingestion bench went to its writes).

Used as ``--worker-class supportplan.gunicorn_worker.SyncWorker`` (``bin/run``, the Dockerfile,
the benches).
"""

from __future__ import annotations

import contextlib
import socket

from gunicorn.http.body import LengthReader
from gunicorn.workers import sync


def read_to_end(req) -> bool:
    """Whether the application read the request's body to its declared end (a request without a
    body counts as read). A chunked body is not: its end is not known without reading on."""
    reader = req.body.reader
    return isinstance(reader, LengthReader) and reader.length == 0


def nothing_pending(client: socket.socket) -> bool:
    """Whether the kernel holds no unread bytes from the client (its close, if it came, is fine)."""
    try:
        return client.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def set_cork(client: socket.socket, corked: bool) -> bool:
    """Corks or uncorks the connection (uncorking sends what is held); False where it cannot."""
    if not hasattr(socket, "TCP_CORK"):
        return False
    try:
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1 if corked else 0)
    except OSError:
        return False
    return True


class SyncWorker(sync.SyncWorker):
    def handle_request(self, listener, req, client, addr):
        corked = set_cork(client, True)
        try:
            super().handle_request(listener, req, client, addr)
        finally:
            if corked:
                set_cork(client, False)
        # The answer is sent. gunicorn's own close (``close_graceful``, in ``handle``) then finds the
        # socket closed and returns at once.
        if not self.cfg.is_ssl and read_to_end(req) and nothing_pending(client):
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_WR)
            client.close()
