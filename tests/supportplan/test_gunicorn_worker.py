"""The product's gunicorn worker closes a fully read connection at once, and still closes gracefully
(draining) when the body was left unread, so an early 413 reaches the client whole."""

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bench.live_stack import free_port

ROOT = Path(__file__).resolve().parents[2]
OURS = "supportplan.gunicorn_worker.SyncWorker"
STOCK = "sync"


@pytest.fixture(params=[OURS, STOCK], ids=["ours", "gunicorn's"], scope="module")
def server(request):
    port = free_port()
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "tests.supportplan.gunicorn_app:app",
            "--workers",
            "1",
            "--worker-class",
            request.param,
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/read", timeout=2):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start") from None
            time.sleep(0.1)
    yield request.param, port
    process.terminate()
    process.wait(timeout=10)


def _request(port: int, head: bytes, body: bytes = b"") -> socket.socket:
    client = socket.create_connection(("127.0.0.1", port), timeout=10)
    client.sendall(head + body)
    return client


def _response(client: socket.socket) -> bytes:
    """Reads one response (headers and a Content-Length body) without closing the socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += client.recv(65536)
    head, _, rest = data.partition(b"\r\n\r\n")
    length = int(
        next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))[15:]
    )
    while len(rest) < length:
        rest += client.recv(65536)
    return head.split(b"\r\n")[0] + b" " + rest


def test_a_fully_read_request_does_not_hold_the_worker_until_the_client_closes(server):
    worker, port = server
    body = b'{"kind": "comment"}'
    first = _request(port, b"POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body), body)
    assert _response(first) == b"HTTP/1.1 200 OK read 19"
    # The first client keeps its socket open. The single worker serves the next one…
    began = time.monotonic()
    second = _request(port, b"GET /read HTTP/1.1\r\nHost: x\r\n\r\n")
    assert _response(second) == b"HTTP/1.1 200 OK read 0"
    waited = time.monotonic() - began
    first.close(), second.close()
    if worker == OURS:
        assert waited < 1.0  # …at once
    else:
        assert waited >= 1.5  # …after gunicorn's close gave up waiting for the first (2 s)


def test_an_early_answer_to_an_unread_body_still_arrives_whole(server):
    _worker, port = server
    body = b"x" * 30_000  # less than gunicorn drains (64 KiB)
    client = _request(
        port, b"POST /early HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body), body
    )
    # Read only once the server has written what its buffers take: a close that left the request's
    # body unread sends a reset, and drops what of the answer the server had not sent yet.
    time.sleep(0.5)
    assert _response(client) == b"HTTP/1.1 413 Content Too Large " + b"too large " * 800_000
    client.close()


def _data_segments_received(client: socket.socket) -> int:
    """``tcpi_data_segs_in`` of the connection's ``TCP_INFO`` (Linux 4.6+): segments that carried data."""
    import struct

    return struct.unpack_from("I", client.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256), 152)[0]


@pytest.mark.skipif(not hasattr(socket, "TCP_CORK"), reason="TCP_CORK and TCP_INFO are Linux's")
def test_a_small_answer_arrives_in_one_segment_with_its_headers(server):
    worker, port = server
    client = _request(port, b"GET /read HTTP/1.1\r\nHost: x\r\n\r\n")
    received = b""
    while chunk := client.recv(65536):  # to the server's close: every segment is in
        received += chunk
    assert received.startswith(b"HTTP/1.1 200 OK") and received.endswith(b"read 0")
    # gunicorn writes the headers, then the body; corked, they leave as one segment.
    assert _data_segments_received(client) == (1 if worker == OURS else 2)
    client.close()
