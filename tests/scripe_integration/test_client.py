"""The client against the sandbox over real HTTP: the Scripe contract, method by method."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from scripe_integration.client import ScripeClient
from scripe_integration.contract import API_VERSION, Job, ScripeError
from tests.scripe_integration.sandbox_support import eventually

PROJECT = "proj_01JSANDBOXPROJ000000000001"
COMPANY = "proj_01JSANDBOXPROJ000000000002"
DISCONNECTED = "proj_01JSANDBOXPROJ000000000003"
NOTE = "We moved our planning to one calendar. Fewer meetings. More posts that actually ship."


def key() -> str:
    return uuid.uuid4().hex


def wait_for_terminal(client: ScripeClient, job: Job, seconds: float = 10) -> Job:
    deadline = time.monotonic() + seconds
    while not job.is_terminal:
        assert time.monotonic() < deadline, f"job {job.id} still {job.status}"
        time.sleep(0.1)
        job = client.get_job(job.id)
    return job


def error_of(call, *args, **kwargs) -> ScripeError:
    with pytest.raises(ScripeError) as info:
        call(*args, **kwargs)
    return info.value


# workspace and health --------------------------------------------------------------------------


def test_workspace_me_returns_the_workspace_and_the_keys_scopes(sandbox):
    with sandbox.client() as scripe:
        workspace = scripe.workspace_me()
    assert workspace.id.startswith("org_")
    assert workspace.plan == "ADVANCED"
    assert workspace.principal_id.startswith("key_")
    assert "posts:write" in workspace.scopes


def test_health_auth_echoes_the_principal(sandbox):
    with sandbox.client() as scripe:
        health = scripe.health_auth()
    assert health.status == "ok"
    assert health.version == API_VERSION
    assert health.workspace_id.startswith("org_")


def test_it_sends_version_user_agent_and_bearer_key(sandbox):
    with sandbox.client() as scripe:
        scripe.workspace_me()
        headers = scripe._http.headers
    assert headers["Scripe-Api-Version"] == "2026-08-01"
    assert headers["User-Agent"].startswith("scripe-calendar/")
    assert headers["Authorization"] == f"Bearer {sandbox.key}"


def test_its_repr_never_shows_the_key(sandbox):
    assert sandbox.key not in repr(sandbox.client())


# projects --------------------------------------------------------------------------------------


def test_list_projects_follows_every_page(sandbox_factory):
    sandbox = sandbox_factory(extra_projects=450)
    with sandbox.client() as scripe:
        projects = scripe.list_projects()
    assert len(projects) == 453
    assert len({p.id for p in projects}) == 453
    created = [p.created_at for p in projects]
    assert created == sorted(created, reverse=True)
    # 453 projects at 200 a page: three pages, no more.
    assert sandbox.stats()["requests"]["GET /v1/projects"] == 3


def test_get_project_returns_one_and_404s_an_unknown_one(sandbox):
    with sandbox.client() as scripe:
        project = scripe.get_project(COMPANY)
        missing = error_of(scripe.get_project, "proj_doesnotexist")
    assert (project.name, project.type, project.is_active) == (
        "Acme Analytics",
        "COMPANY_PAGE",
        True,
    )
    assert (missing.code, missing.http_status, missing.retryable) == ("not_found", 404, False)
    assert missing.request_id.startswith("req_")


def test_a_paused_project_is_not_active(sandbox):
    sandbox.patch_project(PROJECT, status="PAUSED")
    with sandbox.client() as scripe:
        assert scripe.get_project(PROJECT).is_active is False


# generation and the job lifecycle --------------------------------------------------------------


def test_a_generation_runs_to_done_and_its_post_can_be_read(sandbox):
    with sandbox.client() as scripe:
        job = scripe.generate_post(PROJECT, NOTE, idempotency_key=key(), language="en")
        assert job.status == "QUEUED"
        assert job.id.startswith("job_")
        assert job.estimated_completion_ms > 0
        assert job.replayed is False
        done = wait_for_terminal(scripe, job)
        post = scripe.get_post(done.post_id)
    assert done.status == "DONE"
    assert done.attempt_count == 1
    assert done.completed_at >= done.started_at >= done.created_at
    assert post.status == "draft"
    assert post.project_id == PROJECT
    assert "Fewer meetings." in post.content
    assert post.title


def test_a_running_job_reports_progress_and_a_message(sandbox_factory):
    sandbox = sandbox_factory(generation_seconds=(3, 3), queue_seconds=0)
    with sandbox.client() as scripe:
        job = scripe.generate_post(PROJECT, NOTE, idempotency_key=key())
        running = eventually(lambda: (j := scripe.get_job(job.id)).progress and j)
    assert running.status == "RUNNING"
    assert 0 < running.progress < 1
    assert running.progress_message


def test_wait_for_completion_returns_a_finished_job(sandbox):
    with sandbox.client() as scripe:
        job = scripe.generate_post(
            PROJECT, NOTE, idempotency_key=key(), wait_for_completion_ms=5000
        )
    assert job.status == "DONE"
    assert job.post_id.startswith("post_")


def test_a_failed_generation_carries_scripes_error_code_and_message(sandbox):
    with sandbox.client() as scripe:
        job = scripe.generate_post(
            PROJECT, NOTE + " [sandbox:fail=content_policy]", idempotency_key=key()
        )
        failed = wait_for_terminal(scripe, job)
    assert failed.status == "FAILED"
    assert failed.error_code == "content_policy"
    assert "content policy" in failed.error_message
    assert failed.post_id is None


def test_a_scheduled_generation_leaves_the_post_scheduled(sandbox):
    when = datetime.now(UTC) + timedelta(days=3)
    with sandbox.client() as scripe:
        job = scripe.generate_post(PROJECT, NOTE, idempotency_key=key(), scheduled_for=when)
        post = scripe.get_post(wait_for_terminal(scripe, job).post_id)
    assert post.status == "scheduled"
    assert abs((post.scheduled_at - when).total_seconds()) < 0.01


def test_cancel_works_while_queued(sandbox_factory):
    sandbox = sandbox_factory(queue_seconds=30)
    with sandbox.client() as scripe:
        job = scripe.generate_post(PROJECT, NOTE, idempotency_key=key())
        cancelled = scripe.cancel_job(job.id)
        again = scripe.get_job(job.id)
    assert cancelled.status == again.status == "CANCELLED"
    assert cancelled.is_terminal
    assert sandbox.stats()["spendCents"][datetime.now(UTC).strftime("%Y-%m-%d")] == 0


def test_cancel_refuses_a_running_job(sandbox_factory):
    sandbox = sandbox_factory(queue_seconds=0, generation_seconds=(5, 5))
    with sandbox.client() as scripe:
        job = scripe.generate_post(PROJECT, NOTE, idempotency_key=key())
        time.sleep(0.1)
        error = error_of(scripe.cancel_job, job.id)
    assert (error.code, error.http_status, error.retryable) == ("not_cancellable", 409, False)
    assert "RUNNING" in error.message


def test_list_jobs_filters_by_status_across_pages(sandbox_factory):
    sandbox = sandbox_factory(queue_seconds=60, rate_limit=1000)
    with sandbox.client() as scripe:
        jobs = [scripe.generate_post(PROJECT, NOTE, idempotency_key=key()) for _ in range(205)]
        scripe.cancel_job(jobs[0].id)
        queued = scripe.list_jobs(status=["QUEUED"])
        cancelled = scripe.list_jobs(status=["CANCELLED"], type=["POST_GENERATION"])
    assert len(queued) == 204
    assert [j.id for j in cancelled] == [jobs[0].id]
    assert sandbox.stats()["requests"]["GET /v1/jobs"] == 3


# idempotency -----------------------------------------------------------------------------------


def test_the_same_key_and_body_replays_the_first_job(sandbox):
    k = key()
    with sandbox.client() as scripe:
        first = scripe.generate_post(PROJECT, NOTE, idempotency_key=k, language="en")
        second = scripe.generate_post(PROJECT, NOTE, idempotency_key=k, language="en")
    assert second.id == first.id
    assert (first.replayed, second.replayed) == (False, True)
    assert second.status == first.status  # the original snapshot, not the current state
    stats = sandbox.stats()
    assert stats["jobsCreated"] == 1
    assert stats["idempotentReplays"] == 1


def test_a_replayed_scheduled_body_hashes_the_same(sandbox):
    k, when = key(), datetime.now(UTC) + timedelta(hours=5)
    with sandbox.client() as scripe:
        scripe.generate_post(PROJECT, NOTE, idempotency_key=k, scheduled_for=when)
        # The same instant in another zone must serialise to the same bytes.
        other_zone = when.astimezone(datetime.now().astimezone().tzinfo)
        replay = scripe.generate_post(PROJECT, NOTE, idempotency_key=k, scheduled_for=other_zone)
    assert replay.replayed is True


def test_the_same_key_with_another_body_is_a_conflict(sandbox):
    k = key()
    with sandbox.client() as scripe:
        scripe.generate_post(PROJECT, NOTE, idempotency_key=k)
        error = error_of(scripe.generate_post, PROJECT, NOTE + " Changed.", idempotency_key=k)
    assert (error.code, error.http_status, error.retryable) == (
        "idempotency_key_conflict",
        409,
        False,
    )
    assert sandbox.stats()["jobsCreated"] == 1


def test_a_timed_out_generation_retried_with_its_key_makes_one_job(sandbox):
    # The first request is held past the client's read timeout, but the job is created;
    # the retry with the same key gets that job back instead of a second one.
    sandbox.fault("POST /v1/posts/generations", count=1, hangSeconds=1.5)
    k = key()
    with sandbox.client(read_timeout=0.5) as scripe:
        timeout = error_of(scripe.generate_post, PROJECT, NOTE, idempotency_key=k)
        # The held request finishes on the sandbox's side and its job is stored.
        eventually(lambda: sandbox.stats()["jobsCreated"] == 1)
        retry = scripe.generate_post(PROJECT, NOTE, idempotency_key=k)
    assert (timeout.code, timeout.retryable) == ("timeout", True)
    assert retry.replayed is True
    assert sandbox.stats()["jobsCreated"] == 1


# posts -----------------------------------------------------------------------------------------


def generated_post(scripe: ScripeClient, project: str = PROJECT) -> str:
    job = scripe.generate_post(project, NOTE, idempotency_key=key(), wait_for_completion_ms=5000)
    return wait_for_terminal(scripe, job).post_id


def test_update_post_edits_and_schedules_then_unschedules(sandbox):
    when = datetime.now(UTC) + timedelta(days=2)
    with sandbox.client() as scripe:
        post_id = generated_post(scripe)
        scheduled = scripe.update_post(
            post_id, content="Edited text", title="Edited", scheduled_for=when
        )
        unscheduled = scripe.update_post(post_id, scheduled_for=None)
        untouched = scripe.update_post(post_id, title="Only the title")
    assert (scheduled.content, scheduled.title, scheduled.status) == (
        "Edited text",
        "Edited",
        "scheduled",
    )
    assert abs((scheduled.scheduled_at - when).total_seconds()) < 0.01
    assert (unscheduled.status, unscheduled.scheduled_at) == ("draft", None)
    assert (untouched.content, untouched.status) == ("Edited text", "draft")


def test_scheduling_without_a_linkedin_connection_is_a_conflict(sandbox):
    with sandbox.client() as scripe:
        post_id = generated_post(scripe, DISCONNECTED)
        error = error_of(
            scripe.update_post, post_id, scheduled_for=datetime.now(UTC) + timedelta(days=1)
        )
        post = scripe.get_post(post_id)
    assert (error.code, error.http_status) == ("conflict", 409)
    assert post.status == "draft"


def test_get_post_404s_an_unknown_post(sandbox):
    with sandbox.client() as scripe:
        assert error_of(scripe.get_post, "post_nope").code == "not_found"


# errors ----------------------------------------------------------------------------------------


def test_an_unknown_key_is_invalid_token(sandbox):
    error = error_of(sandbox.client("scripe_sk_test_unknown").workspace_me)
    assert (error.code, error.http_status, error.retryable) == ("invalid_token", 401, False)


def test_a_revoked_key_is_key_revoked(sandbox):
    sandbox.revoke(sandbox.key)
    error = error_of(sandbox.client().workspace_me)
    assert (error.code, error.http_status) == ("key_revoked", 401)


def test_an_expired_key_is_key_expired(sandbox_factory):
    sandbox = sandbox_factory(expired_keys={"scripe_sk_live_old"})
    error = error_of(sandbox.client("scripe_sk_live_old").workspace_me)
    assert (error.code, error.http_status) == ("key_expired", 401)


def test_a_plan_without_api_access_is_plan_not_eligible(sandbox_factory):
    error = error_of(sandbox_factory(plan="SOLO").client().workspace_me)
    assert (error.code, error.http_status) == ("plan_not_eligible", 403)


def test_a_key_without_the_scope_is_scope_missing(sandbox_factory):
    sandbox = sandbox_factory(keys={"scripe_sk_test_readonly": ("posts:read",)})
    with sandbox.client() as scripe:
        error = error_of(scripe.generate_post, PROJECT, NOTE, idempotency_key=key())
    assert (error.code, error.http_status) == ("scope_missing", 403)
    assert error.details["required"] == ["posts:write"]


def test_an_unknown_version_is_version_unsupported_with_the_accepted_ones(sandbox):
    error = error_of(sandbox.client(version="1999-01-01").workspace_me)
    assert (error.code, error.http_status) == ("version_unsupported", 400)
    assert error.details["accepted"] == ["2026-08-01"]


def test_the_spend_cap_is_402_with_its_meta(sandbox_factory):
    sandbox = sandbox_factory(spend_cap=1)
    with sandbox.client() as scripe:
        scripe.generate_post(PROJECT, NOTE, idempotency_key=key())
        error = error_of(scripe.generate_post, PROJECT, NOTE, idempotency_key=key())
    assert (error.code, error.http_status, error.retryable) == ("spend_cap_exceeded", 402, False)
    assert error.meta["capCents"] == 5
    assert error.meta["bucketDate"] == datetime.now(UTC).strftime("%Y-%m-%d")


def test_an_inactive_project_is_unprocessable(sandbox):
    sandbox.patch_project(PROJECT, status="ARCHIVED")
    with sandbox.client() as scripe:
        error = error_of(scripe.generate_post, PROJECT, NOTE, idempotency_key=key())
    assert (error.code, error.http_status) == ("unprocessable", 422)


def test_429_is_retryable_with_retry_after_and_the_headers_are_recorded(sandbox_factory):
    sandbox = sandbox_factory(rate_limit=3)
    with sandbox.client() as scripe:
        for _ in range(3):
            scripe.workspace_me()
        assert scripe.last_rate_limit.remaining == 0
        assert scripe.last_rate_limit.seconds_to_wait() > 0
        error = error_of(scripe.workspace_me)
    assert (error.code, error.http_status, error.retryable) == ("rate_limited", 429, True)
    assert 0 < error.retry_after <= 60


def test_rate_limit_headers_are_recorded_on_success(sandbox):
    with sandbox.client() as scripe:
        scripe.workspace_me()
        scripe.workspace_me()
    assert (scripe.last_rate_limit.limit, scripe.last_rate_limit.remaining) == (120, 118)
    assert scripe.last_request_id.startswith("req_")


@pytest.mark.parametrize(
    ("status", "code"), [(500, "internal_error"), (503, "service_unavailable")]
)
def test_server_errors_are_retryable(sandbox, status, code):
    sandbox.fault("GET /v1/jobs/{jobId}", count=1, status=status, retryAfter=2)
    with sandbox.client() as scripe:
        job = scripe.generate_post(PROJECT, NOTE, idempotency_key=key())
        error = error_of(scripe.get_job, job.id)
        assert scripe.get_job(job.id).id == job.id  # the fault was for one request only
    assert (error.code, error.http_status, error.retryable, error.retry_after) == (
        code,
        status,
        True,
        2,
    )


def test_a_connection_error_is_retryable(sandbox):
    url = sandbox.base_url
    sandbox.sandbox.stop()
    error = error_of(ScripeClient(url, sandbox.key, connect_timeout=1).workspace_me)
    assert (error.code, error.retryable, error.http_status) == ("connection_error", True, None)


def test_a_deprecation_notice_is_recorded(sandbox_factory):
    notice = "2026-08-01; sunset=2026-12-01; replacement=2026-11-01"
    with sandbox_factory(deprecation=notice).client() as scripe:
        scripe.workspace_me()
    deprecation = scripe.last_deprecation
    assert (deprecation.version, deprecation.sunset, deprecation.replacement) == (
        "2026-08-01",
        "2026-12-01",
        "2026-11-01",
    )
