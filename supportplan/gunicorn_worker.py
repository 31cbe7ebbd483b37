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

With ``--threads N`` (N > 1), N threads of each worker run this same loop on the shared listening
socket: each accepts a connection, serves it to the end and closes it, as the single-threaded worker
does. While one thread waits for the database, another can run, so 2 worker processes keep 2 cores
busy; gunicorn's gthread worker does the same with a poller, a thread pool and kept-alive
connections, whose bookkeeping cost more CPU per request than the overlap saved in the ingestion
bench. The main thread keeps gunicorn's own loop (signals, the arbiter's heartbeat); the others
check ``alive`` at least every second, finish the request they hold on a graceful stop, and are
waited for. A thread that fails stops the worker, and the arbiter starts a new one.

Used as ``--worker-class supportplan.gunicorn_worker.SyncThreadsWorker --threads 2`` (``bin/run``,
the Dockerfile, the benches). The name must not end in ``SyncWorker``: gunicorn replaces any such
class by its gthread worker when ``--threads`` is above 1.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import socket
import threading

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


#: How long a thread other than the main one waits for a connection before it looks at ``alive``.
_POLL_SECONDS = 1.0


class SyncThreadsWorker(sync.SyncWorker):
    def run(self):
        count = max(int(self.cfg.threads or 1), 1)
        if count == 1:
            super().run()
            return
        for listener in self.sockets:
            listener.setblocking(0)
        others = [
            threading.Thread(target=self._serve_beside, name=f"gunicorn-accept-{number}", daemon=True)
            for number in range(1, count)
        ]
        for thread in others:
            thread.start()
        try:
            super().run()
        finally:
            self.alive = False
            for thread in others:
                thread.join(self.cfg.graceful_timeout)

    def _serve_beside(self) -> None:
        """A thread's accept loop beside the main one's: the listeners only (the signal pipe is the
        main thread's), ``alive`` seen within ``_POLL_SECONDS``."""
        try:
            while self.alive:
                self.notify()
                served = False
                for listener in self.sockets:
                    try:
                        self.accept(listener)
                        served = True
                    except OSError as error:
                        if error.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                            raise
                if served:
                    continue  # more may be waiting: no select until the backlog is empty
                if not self.is_parent_alive():
                    self.alive = False
                    return
                try:
                    select.select(self.sockets, [], [], _POLL_SECONDS)
                except OSError as error:
                    if error.errno == errno.EINTR:
                        continue
                    if error.errno == errno.EBADF:  # the listeners were closed: stopping
                        return
                    raise
        except BaseException:
            self.log.exception("Accept thread failed; stopping the worker")
            self.alive = False
            with contextlib.suppress(OSError):
                os.write(self.PIPE[1], b".")  # wakes the main thread's select

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
