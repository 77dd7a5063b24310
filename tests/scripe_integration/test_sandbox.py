"""The sandbox itself, spoken to with raw HTTP where the client would refuse to go."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest

from scripe_integration.sandbox.__main__ import build_parser
from scripe_integration.sandbox.writer import write_post
from tests.scripe_integration.sandbox_support import eventually

PROJECT = "proj_01JSANDBOXPROJ000000000001"


@pytest.fixture
def api(sandbox):
    with httpx.Client(
        base_url=sandbox.base_url + "/", headers={"Authorization": f"Bearer {sandbox.key}"}
    ) as http:
        yield http


def generation(text: str = "An idea worth a post.", **extra) -> dict:
    return {"projectId": PROJECT, "source": {"text": text}, **extra}


def test_a_missing_version_header_gets_the_default_version(api):
    response = api.get("workspaces/me")
    assert response.status_code == 200
    assert response.headers["Scripe-Api-Version"] == "2026-08-01"
    assert response.headers["X-Request-Id"].startswith("req_")


def test_health_needs_no_key_and_is_cacheable(sandbox):
    response = httpx.get(f"{sandbox.base_url}/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.headers["Cache-Control"] == "max-age=5, public"


def test_errors_use_the_documented_envelope(api):
    response = api.get("projects/proj_missing")
    error = response.json()["error"]
    assert response.status_code == 404
    assert error["code"] == "not_found"
    assert error["request_id"] == response.headers["X-Request-Id"]
    assert error["docs_url"] == "https://docs.scripe.io/api/v1/errors#not_found"


def test_unknown_routes_404_and_wrong_methods_405(api):
    assert api.get("nothing-here").status_code == 404
    assert api.delete("projects").status_code == 405


def test_a_body_over_256_kb_with_an_idempotency_key_is_413(api):
    body = generation("x" * 90_000, padding="y" * 200_000)
    response = api.post("posts/generations", json=body, headers={"Idempotency-Key": "big"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_source_text_over_the_cap_is_413(api):
    response = api.post("posts/generations", json=generation("x" * 100_001))
    assert (response.status_code, response.json()["error"]["code"]) == (413, "payload_too_large")


def test_a_malformed_idempotency_key_is_ignored(api, sandbox):
    for _ in range(2):
        response = api.post(
            "posts/generations", json=generation(), headers={"Idempotency-Key": "not valid!"}
        )
        assert response.status_code == 202
        assert "Idempotent-Replayed" not in response.headers
    assert sandbox.stats()["jobsCreated"] == 2


def test_a_replay_returns_the_original_status_and_body_byte_for_byte(api):
    headers = {"Idempotency-Key": "same-key"}
    first = api.post("posts/generations", json=generation(), headers=headers)
    # Same JSON, other key order and spacing: the canonical hash must match.
    raw = json.dumps({"source": {"text": "An idea worth a post."}, "projectId": PROJECT}, indent=2)
    second = api.post("posts/generations", content=raw, headers=headers)
    assert second.status_code == first.status_code == 202
    assert second.content == first.content
    assert (first.headers["Idempotent-Replayed"], second.headers["Idempotent-Replayed"]) == (
        "false",
        "true",
    )


def test_a_refused_request_is_not_stored_for_replay(api, sandbox):
    headers = {"Idempotency-Key": "fix-and-resend"}
    refused = api.post("posts/generations", json={"source": {"text": "x"}}, headers=headers)
    accepted = api.post("posts/generations", json=generation(), headers=headers)
    assert (refused.status_code, accepted.status_code) == (400, 202)
    assert sandbox.stats()["jobsCreated"] == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"source": {"text": "x"}}, 400, "invalid_request"),
        ({"projectId": PROJECT}, 400, "invalid_request"),
        ({"projectId": PROJECT, "source": {"text": "   "}}, 400, "invalid_request"),
        ({"projectId": "proj_other_workspace", "source": {"text": "x"}}, 404, "not_found"),
        (
            {"projectId": PROJECT, "source": {"text": "x"}, "scheduledFor": "2020-01-01T00:00:00Z"},
            422,
            "unprocessable",
        ),
        (
            {"projectId": PROJECT, "source": {"text": "x"}, "scheduledFor": "next tuesday"},
            400,
            "invalid_request",
        ),
        (
            {"projectId": PROJECT, "source": {"text": "x"}, "wait_for_completion_ms": "soon"},
            400,
            "invalid_request",
        ),
    ],
)
def test_generation_input_is_validated(api, sandbox, body, status, code):
    response = api.post("posts/generations", json=body)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert sandbox.stats()["jobsCreated"] == 0


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("limit=0", "bad_pagination"),
        ("limit=foo", "bad_pagination"),
        ("limit=999", "bad_pagination"),
        ("cursor=%%%", "bad_cursor"),
    ],
)
def test_bad_pagination_and_cursors_are_400(api, query, code):
    response = api.get(f"projects?{query}")
    assert (response.status_code, response.json()["error"]["code"]) == (400, code)


def test_a_limit_over_200_is_clamped(sandbox_factory):
    sandbox = sandbox_factory(extra_projects=250)
    response = httpx.get(
        f"{sandbox.base_url}/projects?limit=300",
        headers={"Authorization": f"Bearer {sandbox.key}"},
    )
    assert len(response.json()["data"]) == 200
    assert response.json()["pagination"]["has_more"] is True


def test_listing_posts_needs_a_project_and_known_statuses(api):
    missing = api.get("posts")
    bogus = api.get(f"posts?projectId={PROJECT}&status=draft,BOGUS")
    bad_date = api.get(f"posts?projectId={PROJECT}&dateFrom=15/05/2026")
    assert (missing.status_code, missing.json()["error"]["code"]) == (400, "invalid_request")
    assert bogus.status_code == 400 and "BOGUS" in bogus.json()["error"]["message"]
    assert bad_date.status_code == 400


def test_jobs_advance_on_the_clock_without_being_polled(api):
    job = api.post("posts/generations", json=generation()).json()["data"]
    assert job["status"] == "QUEUED"
    jobs = eventually(lambda: api.get("jobs?status=DONE").json()["data"])
    assert [j["id"] for j in jobs] == [job["id"]]
    post_id = jobs[0]["result"]["postId"]
    posts = api.get(f"posts?projectId={PROJECT}&status=draft").json()["data"]
    assert [p["id"] for p in posts] == [post_id]


def test_faults_fail_the_next_n_requests_on_a_route_then_stop(api, sandbox):
    sandbox.fault("GET /v1/workspaces/me", count=2, status=503, retryAfter=3)
    statuses = [api.get("workspaces/me").status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    stats = sandbox.stats()
    assert stats["requests"]["GET /v1/workspaces/me"] == 3


def test_stats_count_requests_by_route_and_jobs_by_status(api, sandbox):
    api.post("posts/generations", json=generation())
    api.get("projects")
    stats = sandbox.stats()
    assert stats["requests"]["POST /v1/posts/generations"] == 1
    assert stats["requests"]["GET /v1/projects"] == 1
    assert stats["jobsCreated"] == 1
    assert sum(stats["jobs"].values()) == 1


def test_the_writer_is_deterministic_and_follows_the_language():
    text = "Wir haben unseren Kalender neu gebaut. Weniger Meetings, mehr Beiträge."
    first = write_post(text, language="de", project_name="Lena")
    assert first == write_post(text, language="de", project_name="Lena")
    title, content = first
    assert "Was würdet ihr ergänzen?" in content
    assert "Weniger Meetings, mehr Beiträge." in content
    assert content.rstrip().split("\n")[-1].startswith("#")
    assert title == "Wir haben unseren Kalender neu gebaut"


def test_help_documents_every_option():
    result = subprocess.run(
        [sys.executable, "-m", "scripe_integration.sandbox", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for action in build_parser()._actions:
        for flag in action.option_strings:
            assert flag in result.stdout
        assert action.help, f"{action.option_strings} has no help text"


def test_the_next_jobs_can_be_made_to_fail(api, sandbox):
    sandbox.fail_next_jobs(1, "content_policy")
    first = api.post("posts/generations", json=generation()).json()["data"]["id"]
    second = api.post("posts/generations", json=generation("Another idea.")).json()["data"]["id"]
    finished = {"DONE", "FAILED"}
    eventually(lambda: api.get(f"jobs/{first}").json()["data"]["status"] in finished)
    eventually(lambda: api.get(f"jobs/{second}").json()["data"]["status"] in finished)
    assert api.get(f"jobs/{first}").json()["data"]["errorCode"] == "content_policy"
    assert api.get(f"jobs/{second}").json()["data"]["status"] == "DONE"


def test_it_can_report_no_progress_and_the_estimate_as_time_remaining(sandbox_factory):
    """The contract leaves both open; the pipeline must cope (bench/generations.py uses these
    to show it does)."""
    sandbox = sandbox_factory(
        generation_seconds=(3, 3), queue_seconds=0, progress=False, estimate_reading="remaining"
    )
    with httpx.Client(
        base_url=sandbox.base_url + "/", headers={"Authorization": f"Bearer {sandbox.key}"}
    ) as api:
        first = api.post("posts/generations", json=generation()).json()["data"]
        # The estimate counts down with the sandbox's clock: until it has moved a second on.
        running = eventually(
            lambda: (
                job
                if first["estimatedCompletionMs"]
                - (job := api.get(f"jobs/{first['id']}").json()["data"])["estimatedCompletionMs"]
                >= 900
                else None
            )
        )
    assert running["status"] == "RUNNING" and running["progress"] is None
    assert first["estimatedCompletionMs"] - running["estimatedCompletionMs"] >= 900
