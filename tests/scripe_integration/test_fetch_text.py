"""Reading a link an editor gave as a source (#26): only where the destination rule allows,
as text, never more than asked for."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from scripe_integration.client import fetch_text
from scripe_integration.contract import ScripeError

PAGE = (
    "<html><head><title>How we plan</title><style>p{}</style></head><body>"
    "<script>alert(1)</script><h1>How we plan</h1><p>Every Friday we write three posts.</p>"
    "<p>Nobody reads slides.</p></body></html>"
)


@pytest.fixture
def site():
    answers = {"/page": ("text/html; charset=utf-8", PAGE), "/file": ("application/zip", "PK")}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            kind, body = answers.get(self.path, ("text/plain", "x" * 5000))
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_page_is_read_as_its_text(site):
    text = fetch_text(f"{site}/page", max_bytes=100_000, allow_local_hosts=True)
    assert "Every Friday we write three posts." in text and "Nobody reads slides." in text
    assert "alert" not in text and "<p>" not in text


def test_it_reads_no_more_than_asked(site):
    assert len(fetch_text(f"{site}/long", max_bytes=1000, allow_local_hosts=True)) == 1000


def test_a_file_is_not_a_page(site):
    with pytest.raises(ScripeError) as refused:
        fetch_text(f"{site}/file", max_bytes=1000, allow_local_hosts=True)
    assert "upload the file instead" in refused.value.message


def test_a_local_address_is_refused_unless_allowed(site, connections):
    with pytest.raises(ScripeError) as refused:
        fetch_text(f"{site}/page", max_bytes=1000)
    assert refused.value.code == "fetch_refused" and not refused.value.retryable
    assert connections.made == []
