"""A tiny WSGI application for the gunicorn worker tests: ``/read`` reads the whole body,
``/early`` answers 413 without reading it (as the API does for an oversized body), with a body
large enough to still be in the server's send buffer when it closes the connection."""


def app(environ, start_response):
    if environ["PATH_INFO"] == "/early":
        body = b"too large " * 800_000
        start_response("413 Content Too Large", [("Content-Length", str(len(body)))])
        return [body]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    received = environ["wsgi.input"].read(length) if length else b""
    body = b"read %d" % len(received)
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]
