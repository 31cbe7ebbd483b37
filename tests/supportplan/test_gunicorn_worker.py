"""The product's gunicorn worker closes a fully read connection at once, and still closes gracefully
(draining) when the body was left unread, so an early 413 reaches the client whole; with
``--threads N`` its threads serve connections side by side, and a graceful stop lets each finish."""

import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from bench.live_stack import free_port

ROOT = Path(__file__).resolve().parents[2]
OURS = "supportplan.gunicorn_worker.SyncThreadsWorker"
STOCK = "sync"


def _start(worker: str, *, threads: int = 1) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "tests.supportplan.gunicorn_app:app",
            "--workers",
            "1",
            "--threads",
            str(threads),
            "--worker-class",
            worker,
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
    return process, port


@pytest.fixture(
    params=[(OURS, 1), (OURS, 2), (STOCK, 1)], ids=["ours", "ours, 2 threads", "gunicorn's"], scope="module"
)
def server(request):
    worker, threads = request.param
    process, port = _start(worker, threads=threads)
    yield worker, port
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


def _sleep_answers(port: int, count: int) -> list[tuple[bytes, float]]:
    """``count`` concurrent ``/sleep`` requests: each answer with the seconds it took."""
    answers: list[tuple[bytes, float]] = [(b"", 0.0)] * count

    def one(index: int) -> None:
        began = time.monotonic()
        client = _request(port, b"GET /sleep HTTP/1.1\r\nHost: x\r\n\r\n")
        answers[index] = (_response(client), time.monotonic() - began)
        client.close()

    callers = [threading.Thread(target=one, args=(index,)) for index in range(count)]
    for caller in callers:
        caller.start()
        time.sleep(0.05)
    for caller in callers:
        caller.join(20)
    return answers


@pytest.mark.parametrize("threads", [1, 2])
def test_threads_serve_connections_side_by_side(threads):
    process, port = _start(OURS, threads=threads)
    try:
        answers = _sleep_answers(port, 2)
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert all(answer.startswith(b"HTTP/1.1 200 OK ") for answer, _ in answers)
    slowest = max(seconds for _, seconds in answers)
    served_by = {answer.split(b" ")[-1] for answer, _ in answers}
    if threads == 2:
        # Each 1.5 s request in its own thread of our worker (not gunicorn's gthread pool): both
        # answered in about 1.5 s.
        assert slowest < 2.5 and served_by == {b"MainThread", b"gunicorn-accept-1"}
    else:
        assert slowest >= 2.9 and served_by == {b"MainThread"}  # one after the other


def test_a_graceful_stop_lets_every_thread_finish_its_request():
    process, port = _start(OURS, threads=2)
    stopper = threading.Timer(0.5, process.send_signal, args=(signal.SIGTERM,))
    stopper.start()  # while both threads are inside their 1.5 s request
    try:
        answers = _sleep_answers(port, 2)
        assert process.wait(timeout=10) == 0
    finally:
        stopper.cancel()
        if process.poll() is None:
            process.kill()
    assert [answer.split(b" ")[:3] for answer, _ in answers] == [[b"HTTP/1.1", b"200", b"OK"]] * 2
    assert {answer.split(b" ")[-1] for answer, _ in answers} == {b"MainThread", b"gunicorn-accept-1"}
