"""The client facing odd answers (through httpx.MockTransport) and refusing bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from scripe_integration.client import ScripeClient
from scripe_integration.contract import ScripeError, ScripeInputError

PROJECT = "proj_01JSANDBOXPROJ000000000001"
KEY = "scripe_sk_test_mock"


def client_answering(handler) -> tuple[ScripeClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    return ScripeClient("https://scripe.test/v1", KEY, transport=httpx.MockTransport(record)), seen


def job_body(**overrides) -> dict:
    return {
        "data": {
            "id": "job_a1b2c3d4e5f6g7h8",
            "type": "POST_GENERATION",
            "status": "QUEUED",
            "projectId": PROJECT,
            "attemptCount": 0,
            "estimatedCompletionMs": 12000,
            "createdAt": "2026-11-28T10:00:00Z",
            **overrides,
        }
    }


@pytest.mark.parametrize("status", [200, 201, 202])
def test_any_2xx_from_generation_is_a_job(status):
    scripe, _ = client_answering(lambda r: httpx.Response(status, json=job_body()))
    job = scripe.generate_post(PROJECT, "text", idempotency_key="k1")
    assert (job.status, job.estimated_completion_ms) == ("QUEUED", 12000)


def test_unknown_fields_and_statuses_are_tolerated():
    body = job_body(status="WAITING_FOR_GPU", brandNewField={"x": 1}, progress={"progress": 0.3})
    scripe, _ = client_answering(lambda r: httpx.Response(200, json=body))
    job = scripe.get_job("job_a1b2c3d4e5f6g7h8")
    assert job.status == "WAITING_FOR_GPU"
    assert job.is_terminal is False  # keep polling a status we do not know
    assert job.progress == 0.3


def test_an_unknown_project_status_counts_as_active():
    data = {"id": PROJECT, "name": "New", "type": "NEWSLETTER", "status": "MIGRATING"}
    scripe, _ = client_answering(lambda r: httpx.Response(200, json={"data": data}))
    project = scripe.get_project(PROJECT)
    assert project.is_active and project.type == "NEWSLETTER"


def test_a_non_json_gateway_error_is_retryable():
    scripe, _ = client_answering(lambda r: httpx.Response(502, text="<html>Bad gateway</html>"))
    with pytest.raises(ScripeError) as info:
        scripe.workspace_me()
    assert (info.value.code, info.value.http_status, info.value.retryable) == (
        "http_502",
        502,
        True,
    )


def test_retry_after_as_an_http_date_becomes_seconds():
    when = datetime.now(UTC) + timedelta(seconds=30)
    header = when.strftime("%a, %d %b %Y %H:%M:%S GMT")
    error = {"error": {"code": "rate_limited", "message": "slow down", "request_id": "req_1"}}
    scripe, _ = client_answering(
        lambda r: httpx.Response(429, json=error, headers={"Retry-After": header})
    )
    with pytest.raises(ScripeError) as info:
        scripe.workspace_me()
    assert 25 <= info.value.retry_after <= 30
    assert info.value.request_id == "req_1"


def test_the_read_timeout_outlasts_wait_for_completion():
    timeouts = []

    def handler(request):
        timeouts.append(request.extensions["timeout"]["read"])
        return httpx.Response(202, json=job_body())

    scripe, _ = client_answering(handler)
    scripe.generate_post(PROJECT, "t", idempotency_key="k", wait_for_completion_ms=20000)
    scripe.get_job("job_a1b2c3d4e5f6g7h8")
    assert timeouts[0] > 20
    assert timeouts[1] == scripe.read_timeout


def test_the_body_is_what_the_contract_asks_for():
    scripe, seen = client_answering(lambda r: httpx.Response(202, json=job_body()))
    when = datetime(2030, 6, 1, 15, 0, tzinfo=UTC)
    scripe.generate_post(
        PROJECT,
        "text",
        idempotency_key="slot-1",
        scheduled_for=when,
        language="de",
        wait_for_completion_ms=5000,
    )
    request = seen[0]
    assert request.headers["Idempotency-Key"] == "slot-1"
    assert request.headers["Scripe-Api-Version"] == "2026-08-01"
    assert request.url.path == "/v1/posts/generations"
    assert json.loads(request.content) == {
        "projectId": PROJECT,
        "source": {"text": "text"},
        "scheduledFor": "2030-06-01T15:00:00.000Z",
        "options": {"language": "de"},
        "wait_for_completion_ms": 5000,
    }


FUTURE = datetime.now(UTC) + timedelta(days=1)


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"project_id": "12345"}, "project_id", "proj_"),
        ({"text": ""}, "text", "empty"),
        ({"text": "   \n"}, "text", "empty"),
        ({"text": "x" * 100_001}, "text", "100,000"),
        ({"idempotency_key": "has spaces"}, "idempotency_key", "1-64"),
        ({"idempotency_key": "k" * 65}, "idempotency_key", "1-64"),
        ({"scheduled_for": datetime(2030, 1, 1, 9, 0)}, "scheduled_for", "time zone"),
        ({"scheduled_for": datetime(2020, 1, 1, tzinfo=UTC)}, "scheduled_for", "future"),
        ({"wait_for_completion_ms": 60_000}, "wait_for_completion_ms", "25000"),
    ],
)
def test_bad_input_is_refused_before_anything_is_sent(kwargs, field, words):
    scripe, seen = client_answering(lambda r: httpx.Response(202, json=job_body()))
    call = {"project_id": PROJECT, "text": "t", "idempotency_key": "k", **kwargs}
    with pytest.raises(ScripeInputError) as info:
        scripe.generate_post(call.pop("project_id"), call.pop("text"), **call)
    assert info.value.field == field
    assert words in info.value.message
    assert seen == []


@pytest.mark.parametrize(
    ("method", "arg"),
    [("get_job", "post_123"), ("cancel_job", "../admin"), ("get_post", "job_1")],
)
def test_ids_of_the_wrong_kind_are_refused(method, arg):
    scripe, seen = client_answering(lambda r: httpx.Response(200, json={}))
    with pytest.raises(ScripeInputError):
        getattr(scripe, method)(arg)
    assert seen == []


def test_update_post_refuses_an_empty_update_and_a_long_title():
    scripe, seen = client_answering(lambda r: httpx.Response(200, json={}))
    with pytest.raises(ScripeInputError, match="Nothing to update"):
        scripe.update_post("post_1")
    with pytest.raises(ScripeInputError, match="500"):
        scripe.update_post("post_1", title="t" * 501)
    with pytest.raises(ScripeInputError, match="future"):
        scripe.update_post("post_1", scheduled_for=datetime(2020, 1, 1, tzinfo=UTC))
    assert seen == []


CALLS = {
    "workspace_me": lambda s: s.workspace_me(),
    "list_projects": lambda s: s.list_projects(),
    "get_project": lambda s: s.get_project(PROJECT),
    "generate_post": lambda s: s.generate_post(PROJECT, "text", idempotency_key="k1"),
    "get_job": lambda s: s.get_job("job_a1b2c3d4e5f6g7h8"),
    "cancel_job": lambda s: s.cancel_job("job_a1b2c3d4e5f6g7h8"),
    "get_post": lambda s: s.get_post("post_a1b2c3"),
    "update_post": lambda s: s.update_post("post_a1b2c3", content="Hi."),
}
WRONG_SHAPES = [{}, {"data": None}, {"data": "a string"}, {"data": [1, 2]}, {"data": {"x": 1}}]


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("body", WRONG_SHAPES, ids=json.dumps)
def test_json_of_the_wrong_shape_is_a_scripe_error_not_a_crash(call, body):
    scripe, _ = client_answering(lambda r: httpx.Response(200, json=body))
    try:
        result = CALLS[call](scripe)
    except ScripeError as error:
        assert (error.code, error.retryable) == ("invalid_response", True)
        assert "shape" in error.message
    else:
        # Only an empty list of projects is a fine answer to a page without data.
        assert (call, result) == ("list_projects", [])
