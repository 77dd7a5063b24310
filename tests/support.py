"""Helpers shared by the integration and browser tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.db import connection
from django.utils import timezone

if TYPE_CHECKING:
    import calendar_app.models

ROOT = Path(__file__).resolve().parents[1]


def database_url() -> str:
    """The test database, as a URL the cluster processes can open."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        if "memory" in str(db["NAME"]) or db["NAME"] == ":memory:":
            pytest.skip("the SQLite test database is in memory; a cluster cannot share it")
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Cluster:
    def __init__(self, **env: str) -> None:
        inherited = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        environment = {
            **inherited,  # the ORM broker unless the caller names Redis
            "DATABASE_URL": database_url(),
            "Q_WORKERS": "2",
            "Q_LOG_LEVEL": "WARNING",
            # The sandbox is on 127.0.0.1, as the tests' own settings allow (conftest).
            "SCRIPE_ALLOW_LOCAL_HOSTS": "true",
            # Outgoing webhooks go to a receiver the test starts on 127.0.0.1 too.
            "OUTGOING_WEBHOOKS_ALLOW_LOCAL": "true",
            **env,
        }
        log = ROOT / "var" / "cluster.log"
        with open(log, "ab") as output:  # the cluster's own words, for when a test fails
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "qcluster"],
                cwd=ROOT,
                env=environment,
                start_new_session=True,  # its own process group, so a kill takes the workers too
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        """SIGKILL the whole cluster: no cleanup, as when a machine dies."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        # The test is over; a graceful stop would only wait for idle workers.
        if self.process.poll() is None:
            self.kill()


def wait_for(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def generation_finish(job_id: int, seconds: float = 30) -> None:
    """Advances an attempt step by step, as the dispatcher and its tasks would, until it is
    finished: each step when it is due."""
    from calendar_app.models import GenerationJob
    from calendar_app.pipeline.generation import generation_advance

    deadline = time.monotonic() + seconds
    while True:
        generation_advance(job_id)
        job = GenerationJob.objects.get(pk=job_id)
        if job.finished:
            return
        assert time.monotonic() < deadline, f"attempt {job_id} still unfinished: {job!r}"
        wait = (job.next_poll_at - timezone.now()).total_seconds() if job.next_poll_at else 0.1
        time.sleep(min(max(wait, 0.02), max(0.0, deadline - time.monotonic())))


def written_draft(
    team, days: float = 3, text: str = "Our hiring story.", project=None
) -> calendar_app.models.PlannedSlot:
    """A slot whose draft Scripe (the sandbox) has written, waiting for review."""
    from calendar_app.pipeline.generation import generation_request

    slot = team.slot(timezone.now() + timedelta(days=days), text=text, project=project)
    generation_finish(generation_request(slot=slot).pk)
    slot.refresh_from_db()
    assert slot.status == "in_review"
    return slot


class Receiver:
    """A webhook receiver on a free local port (http.server in a thread): it keeps every
    request it gets (headers and raw body) and answers `status` with `answer`."""

    def __init__(self, status: int = 200, answer: bytes = b"ok\n") -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.status, self.answer = status, answer
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.requests.append((dict(self.headers.items()), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", str(len(receiver.answer)))
                self.end_headers()
                self.wfile.write(receiver.answer)

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}/hooks"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
