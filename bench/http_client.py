"""A lean HTTP/1.1 client for the benches' load generators.

The load generator runs on the same 2 cores as gunicorn and PostgreSQL: every millisecond of CPU
it spends is taken from the server it measures. ``http.client`` costs about half a millisecond of
CPU per request, much of it in parsing the response headers through the ``email`` package. This
client builds the request bytes directly (the constant headers encoded once), sends them in one
``sendall``, reads the response with ``recv`` and looks only at the status line and the headers
that frame the body (Content-Length, Transfer-Encoding, Connection).

It speaks just enough HTTP/1.1 for the benches, and fails loudly (``ResponseError``) on anything
else: bodies delimited by Content-Length, chunked or by the connection's close; 1xx interim
responses skipped; the connection kept for the next request unless the server closes it (gunicorn's
sync workers answer every request with ``Connection: close``).
"""

from __future__ import annotations

import json
import socket
import struct
from urllib.parse import urlparse

_HEADER_END = b"\r\n\r\n"
_METHODS_WITH_BODY = frozenset({"PATCH", "POST", "PUT"})  # Content-Length: 0 when empty, as http.client


class ResponseError(Exception):
    """The server's answer is truncated, malformed or uses HTTP this client does not speak."""


class Client:
    """One connection's worth of client: ``call`` sends a request and returns (status, body bytes).

    Sends the headers ``http.client`` would (Host, Accept-Encoding: identity, Content-Length) plus
    Authorization and Content-Type. Retries once on a connection error or a truncated answer, as
    the ``http.client`` version did (a kept connection the server has since closed)."""

    def __init__(self, base: str, key: str, timeout: float = 60.0):
        parsed = urlparse(base)
        if parsed.scheme != "http":
            raise ValueError(f"http:// only: {base}")
        port = parsed.port or 80
        # Resolved once: socket.create_connection would call getaddrinfo on every request.
        family, kind, proto, _, self.address = socket.getaddrinfo(
            parsed.hostname, port, type=socket.SOCK_STREAM
        )[0]
        self.socket_args = (family, kind, proto)
        # Kernel timeouts on a blocking socket: Python's own socket timeout polls before every call.
        self.timeout = timeout
        seconds = int(timeout)
        self.timeval = struct.pack("ll", seconds, int((timeout - seconds) * 1_000_000))
        host = parsed.hostname if port == 80 else f"{parsed.hostname}:{port}"
        self.fixed_headers = (
            f"Host: {host}\r\nAccept-Encoding: identity\r\n"
            f"Authorization: Api-Key {key}\r\nContent-Type: application/json\r\n"
        ).encode("latin-1")
        self.sock: socket.socket | None = None

    def call(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        payload = b"" if body is None else json.dumps(body).encode()
        head = f"{method} {path} HTTP/1.1\r\n".encode("latin-1")
        if body is not None or method in _METHODS_WITH_BODY:
            head += b"Content-Length: %d\r\n" % len(payload)
        head += self.fixed_headers
        if headers:
            head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()).encode("latin-1")
        request = head + b"\r\n" + payload
        for attempt in range(2):
            try:
                return self._exchange(request)
            except (ConnectionError, ResponseError):
                self.close()
                if attempt:
                    raise
            except BlockingIOError as error:  # EAGAIN / EINPROGRESS: SO_RCVTIMEO / SO_SNDTIMEO ran out
                self.close()
                raise TimeoutError(f"{method} {path}: no answer within {self.timeout} s") from error
            except BaseException:
                self.close()
                raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _connect(self) -> socket.socket:
        sock = socket.socket(*self.socket_args)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, self.timeval)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, self.timeval)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.connect(self.address)
        except BaseException:
            sock.close()
            raise
        return sock

    def _exchange(self, request: bytes) -> tuple[int, bytes]:
        if self.sock is None:
            self.sock = self._connect()
        sock = self.sock
        sock.sendall(request)
        buffer = bytearray()
        while True:  # 1xx interim responses carry no body: skip them
            end = _read_until(sock, buffer, _HEADER_END, 0)
            status_line, *header_lines = bytes(buffer[:end]).split(b"\r\n")
            del buffer[: end + 4]
            version, _, rest = status_line.partition(b" ")
            if not version.startswith(b"HTTP/1.") or len(rest) < 3 or not rest[:3].isdigit():
                raise ResponseError(f"bad status line {status_line[:100]!r}")
            status = int(rest[:3])
            if not 100 <= status < 200:
                break
            if status == 101:
                raise ResponseError("101 Switching Protocols")

        length = None
        chunked = close = False
        for line in header_lines:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                if length is not None and int(value) != length:
                    raise ResponseError("conflicting Content-Length headers")
                length = int(value)
            elif name == b"transfer-encoding":
                codings = [coding.strip() for coding in value.lower().split(b",")]
                if codings[-1] != b"chunked" or len(codings) > 1:
                    raise ResponseError(f"unsupported Transfer-Encoding {value!r}")
                chunked = True
            elif name == b"connection":
                close = close or b"close" in [token.strip() for token in value.lower().split(b",")]
        if version != b"HTTP/1.1":
            close = True  # HTTP/1.0 keeps the connection only on request; this client never asks

        if status in (204, 304):
            data = b""
        elif chunked:
            data = _read_chunked(sock, buffer)
        elif length is not None:
            while len(buffer) < length:
                chunk = sock.recv(max(65536, length - len(buffer)))
                if not chunk:
                    raise ResponseError(f"connection closed after {len(buffer)} of {length} body bytes")
                buffer += chunk
            if len(buffer) > length:
                raise ResponseError(f"{len(buffer) - length} bytes after the body")
            data = bytes(buffer)
        else:  # delimited by the server closing the connection
            while chunk := sock.recv(65536):
                buffer += chunk
            data = bytes(buffer)
            close = True
        if close:
            self.close()
        return status, data


def _read_until(sock: socket.socket, buffer: bytearray, marker: bytes, start: int) -> int:
    """Receives into ``buffer`` until ``marker`` appears at or after ``start``; returns its index."""
    while (end := buffer.find(marker, start)) < 0:
        start = max(start, len(buffer) - len(marker) + 1)
        chunk = sock.recv(65536)
        if not chunk:
            raise ResponseError(f"connection closed before {marker!r} ({len(buffer)} bytes in)")
        buffer += chunk
    return end


def _read_chunked(sock: socket.socket, buffer: bytearray) -> bytes:
    """Decodes a chunked body whose first bytes are in ``buffer``; trailers are read and dropped."""
    body = bytearray()
    position = 0
    while True:
        end = _read_until(sock, buffer, b"\r\n", position)
        size_text = bytes(buffer[position:end]).split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise ResponseError(f"bad chunk size {size_text[:40]!r}") from None
        position = end + 2
        if size == 0:
            break
        while len(buffer) < position + size + 2:
            chunk = sock.recv(65536)
            if not chunk:
                raise ResponseError("connection closed inside a chunk")
            buffer += chunk
        if buffer[position + size : position + size + 2] != b"\r\n":
            raise ResponseError("chunk not followed by CRLF")
        body += buffer[position : position + size]
        position += size + 2
    while (end := _read_until(sock, buffer, b"\r\n", position)) != position:  # trailer lines
        position = end + 2
    if len(buffer) > end + 2:
        raise ResponseError(f"{len(buffer) - end - 2} bytes after the chunked body")
    return bytes(body)
