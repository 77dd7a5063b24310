"""Helpers for the sandbox's sync and webhook tests: posts to work on, a webhook receiver."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

PROJECT = "proj_01JSANDBOXPROJ000000000001"
COMPANY = "proj_01JSANDBOXPROJ000000000002"
DISCONNECTED = "proj_01JSANDBOXPROJ000000000003"


def api_client(sandbox) -> httpx.Client:
    return httpx.Client(
        base_url=sandbox.base_url + "/", headers={"Authorization": f"Bearer {sandbox.key}"}
    )


def control(sandbox, method: str, path: str, **body) -> httpx.Response:
    return httpx.request(method, f"{sandbox.root_url}/_sandbox/{path}", json=body or None)


def make_post(
    api: httpx.Client, project: str = PROJECT, text: str = "An idea worth a post."
) -> dict:
    """A finished draft, written by a generation."""
    body = {"projectId": project, "source": {"text": text}, "wait_for_completion_ms": 5000}
    job = api.post("posts/generations", json=body).json()["data"]
    assert job["status"] == "DONE", job
    return api.get(f"posts/{job['result']['postId']}").json()["data"]


def at(seconds: float) -> str:
    """An ISO time `seconds` from now."""
    when = datetime.now(UTC) + timedelta(seconds=seconds)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def eventually(check: Callable[[], object], seconds: float = 5.0, every: float = 0.05):
    """The first truthy result of `check`, or an AssertionError after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"not true within {seconds} s"
        time.sleep(every)


class Receiver:
    """A local webhook receiver: records each request; answers from `statuses`, then 200."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.requests: list[dict] = []
        self.statuses = list(statuses or [])
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.requests.append(
                        {"headers": dict(self.headers), "body": body, "at": time.time()}
                    )
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/scripe"

    def events(self) -> list[dict]:
        with self.lock:
            return [json.loads(r["body"]) for r in self.requests]

    def types(self) -> list[str]:
        return [e["type"] for e in self.events()]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
