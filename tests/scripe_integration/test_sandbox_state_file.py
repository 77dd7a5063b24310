"""The sandbox's state file: what was there before a restart is there after it."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from scripe_integration.sandbox import ALL_SCOPES, DEFAULT_TEST_KEY, Config, Sandbox
from tests.scripe_integration.sandbox_support import PROJECT, api_client, at, make_post

ROOT = Path(__file__).resolve().parents[2]


def config(path: Path, **overrides) -> Config:
    options = {
        "keys": {DEFAULT_TEST_KEY: ALL_SCOPES},
        "generation_seconds": (0.3, 0.5),
        "queue_seconds": 0.2,
        "failure_rate": 0.0,
        "seed": 1,
        "state_file": str(path),
        "suggestions_per_project": 0,
        **overrides,
    }
    return Config(**options)


class Running:
    """What api_client needs from a sandbox."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.base_url, self.root_url, self.key = (
            sandbox.base_url,
            sandbox.root_url,
            DEFAULT_TEST_KEY,
        )


def test_posts_jobs_endpoints_and_replays_survive_a_restart(tmp_path):
    path = tmp_path / "state.json"
    with Sandbox(config(path)) as first, api_client(Running(first)) as api:
        post = make_post(api)
        scheduled = api.patch(f"posts/{post['id']}", json={"scheduledFor": at(3600)})
        job_id = api.get("jobs").json()["data"][0]["id"]
        hook = {"name": "n", "url": "http://127.0.0.1:9/", "events": ["job.failed"]}
        endpoint = api.post("webhook-endpoints", json=hook).json()["data"]
        body = {"projectId": PROJECT, "source": {"text": "Replay me."}}
        headers = {"Idempotency-Key": "kept-across-restarts"}
        original = api.post("posts/generations", json=body, headers=headers)
        spent = first.state.stats()["spendCents"]
    assert path.exists()

    # Same seed, so the id generator would hand out the same ids again if it started over.
    with Sandbox(config(path)) as second, api_client(Running(second)) as api:
        assert api.get(f"posts/{post['id']}").json()["data"] == scheduled.json()["data"]
        assert api.get(f"jobs/{job_id}").json()["data"]["status"] == "DONE"
        kept = api.get(f"webhook-endpoints/{endpoint['id']}").json()["data"]
        assert kept["secretLast4"] == endpoint["secret"][-4:]
        replay = api.post("posts/generations", json=body, headers=headers)
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert replay.content == original.content
        assert second.state.stats()["spendCents"] == spent
        fresh = make_post(api, text="A new idea after the restart.")
        assert fresh["id"] not in {post["id"]}
        assert len(second.state.posts) == 3


def test_a_job_running_at_stop_finishes_while_the_sandbox_is_down(tmp_path):
    path = tmp_path / "state.json"
    with Sandbox(config(path)) as first, api_client(Running(first)) as api:
        body = {"projectId": PROJECT, "source": {"text": "Written while down."}}
        job = api.post("posts/generations", json=body).json()["data"]
    time.sleep(1.0)
    with Sandbox(config(path)) as second, api_client(Running(second)) as api:
        done = api.get(f"jobs/{job['id']}").json()["data"]
        assert done["status"] == "DONE"
        assert api.get(f"posts/{done['result']['postId']}").status_code == 200


def test_a_missing_file_starts_fresh_and_says_so(tmp_path, caplog):
    path = tmp_path / "nested" / "state.json"
    caplog.set_level(logging.INFO, logger="scripe_integration.sandbox")
    with Sandbox(config(path)) as sandbox:
        assert sandbox.state.posts == {}
    assert "not found; starting fresh" in caplog.text
    assert json.loads(path.read_text())["version"] == 1


def test_a_corrupt_file_is_moved_aside_and_the_sandbox_starts_fresh(tmp_path, caplog):
    path = tmp_path / "state.json"
    path.write_text('{"version": 1, "posts": [')
    with Sandbox(config(path)) as sandbox:
        assert sandbox.state.posts == {} and len(sandbox.state.projects) == 3
    assert "unreadable" in caplog.text and "starting fresh" in caplog.text
    assert (tmp_path / "state.json.corrupt").read_text() == '{"version": 1, "posts": ['
    assert json.loads(path.read_text())["version"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json", "state.json.corrupt"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_cli(path: Path, port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "scripe_integration.sandbox", "--port", str(port)]
    fast = ["--generation-seconds", "0.3-0.5", "--queue-seconds", "0.2", "--failure-rate", "0"]
    process = subprocess.Popen(
        [*command, *fast, "--seed", "1", "--quiet", "--state-file", str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/v1/health").raise_for_status()
            return process
        except httpx.TransportError:
            assert process.poll() is None and time.monotonic() < deadline, process.stdout.read()
            time.sleep(0.1)


def test_the_command_line_keeps_a_draft_across_a_restart(tmp_path):
    """As `make run` does: stopped with SIGINT (Ctrl-C) or SIGTERM, started on the same file."""
    path, port = tmp_path / "sandbox-state.json", free_port()

    class Address:
        base_url, root_url, key = f"http://127.0.0.1:{port}/v1", "", DEFAULT_TEST_KEY

    for stop in (signal.SIGINT, signal.SIGTERM):
        process = start_cli(path, port)
        with api_client(Address) as api:
            post = make_post(api, text=f"Written before {stop.name}.")
        os.kill(process.pid, stop)
        output, _ = process.communicate(timeout=10)
        assert process.returncode in (0, -signal.SIGINT), output
        process = start_cli(path, port)
        try:
            with api_client(Address) as api:
                assert api.get(f"posts/{post['id']}").json()["data"]["status"] == "draft"
        finally:
            process.send_signal(signal.SIGINT)
            output, _ = process.communicate(timeout=10)
        assert "sandbox state loaded from" in output


def test_an_oauth_connection_survives_a_restart(tmp_path):
    from scripe_integration.client import ScripeClient, ScripeOAuthClient
    from scripe_integration.contract import OAUTH_SCOPES
    from tests.scripe_integration.oauth_support import CALLBACK, authorize, consent

    path = tmp_path / "state.json"
    with (
        Sandbox(config(path)) as first,
        ScripeOAuthClient(first.base_url, allow_local_hosts=True) as oauth,
    ):
        server = oauth.discover()
        app = oauth.register(server, client_name="T", redirect_uri=CALLBACK, scopes=OAUTH_SCOPES)
        verifier = "v" * 43
        code = consent(authorize(server, app.client_id, verifier))["code"]
        tokens = oauth.exchange_code(
            server,
            client_id=app.client_id,
            code=code,
            code_verifier=verifier,
            redirect_uri=CALLBACK,
        )
        port = first.server.server_address[1]

    with Sandbox(config(path), port=port) as second:
        with ScripeClient(second.base_url, tokens.access_token, allow_local_hosts=True) as scripe:
            assert scripe.workspace_me().principal_id
        with ScripeOAuthClient(second.base_url, allow_local_hosts=True) as oauth:
            server = oauth.discover()
            renewed = oauth.refresh(
                server, client_id=app.client_id, refresh_token=tokens.refresh_token
            )
        assert renewed.refresh_token != tokens.refresh_token
