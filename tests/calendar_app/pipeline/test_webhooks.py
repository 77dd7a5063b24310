"""Scripe's webhooks: the receiver verifies, stores each event once and hands it to a task;
the task makes the slot follow Scripe's copy of a post, or makes a generation attempt due now.

The payloads are the sandbox's own: the endpoint is registered with the sandbox (through the
admin's service), which delivers to an address where nothing listens; the tests read what it
tried to send from `/_sandbox/webhook-deliveries` and post those bodies to the receiver with
Django's test client, signed as the sandbox signs (`signature()`). One test lets the sandbox
deliver for real, to a live server."""

from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import timedelta

import httpx
import pytest
import time_machine
from django.utils import timezone

from calendar_app import tasks
from calendar_app.models import GenerationJob, PlannedSlot, SlotEvent
from calendar_app.pipeline import dispatch
from calendar_app.pipeline import webhooks as calendar_webhooks
from calendar_app.pipeline.dispatch import generations_dispatch
from calendar_app.review.services import slot_approve
from scripe_integration.models import ScripeConnection, WebhookDelivery, WebhookRefusal
from scripe_integration.services import (
    WEBHOOKS_HEARD_FOR,
    connection_for,
    webhook_health,
    webhook_refusal_count,
    webhook_register,
    webhook_rotate,
)
from scripe_integration.webhooks import SIGNATURE_HEADER, signature
from tests.support import wait_for, written_draft

NOBODY_LISTENS = "http://127.0.0.1:9"  # the discard port: the sandbox's delivery is refused


@pytest.fixture
def hooks(team, sandbox_factory, monkeypatch, settings):
    """A sandbox wired to Acme, with Acme's webhook endpoint registered in it (pointing
    nowhere, so nothing arrives unless a test posts it); generations run when a test says."""
    settings.PUBLIC_BASE_URL = NOBODY_LISTENS
    settings.SCRIPE_ALLOW_LOCAL_HOSTS = True
    running = sandbox_factory(webhook_retry_seconds=(), webhook_timeout=1.0)
    running.wire(team.workspace)
    monkeypatch.setattr(dispatch, "enqueue", lambda job_ids: None)
    registered, message = webhook_register(workspace=team.workspace)
    assert registered, message
    return running


@pytest.fixture
def applied(monkeypatch) -> list[int]:
    """The task runs at once (as a worker would, right after the commit); its ids recorded."""
    ran: list[int] = []

    def run(delivery_id: int) -> None:
        ran.append(delivery_id)
        tasks.apply_scripe_webhook(delivery_id)

    monkeypatch.setattr(calendar_webhooks, "enqueue", run)
    return ran


@pytest.fixture
def scheduled(team, hooks):
    slot = written_draft(team, days=3)
    slot_approve(slot=slot, user=team.manager)
    slot.refresh_from_db()
    assert slot.status == "scheduled"
    return slot


def connection(team) -> ScripeConnection:
    return ScripeConnection.objects.get(workspace=team.workspace)


def url_for(conn: ScripeConnection) -> str:
    return f"/hooks/scripe/{conn.public_id}/"


def secret(team) -> str:
    return connection(team).webhook_secrets()[0]


def bodies(sandbox, event_type: str, object_id: str) -> list[bytes]:
    """The bodies the sandbox tried to deliver for events of a type about an object."""
    listing = httpx.get(f"{sandbox.root_url}/_sandbox/webhook-deliveries").json()["data"]
    return [
        json.dumps(d["payload"], separators=(",", ":")).encode()
        for d in listing
        if d["eventType"] == event_type and d["payload"]["data"]["object"]["id"] == object_id
    ]


def sent(sandbox, event_type: str, object_id: str, *, after: int = 0) -> bytes:
    """The latest such body, once there are more than `after`."""
    wait_for(
        lambda: len(bodies(sandbox, event_type, object_id)) > after,
        5,
        f"{event_type} for {object_id}",
    )
    return bodies(sandbox, event_type, object_id)[-1]


def in_dashboard(sandbox, slot, event_type: str, **changes) -> bytes:
    """What a person does to the slot's post in Scripe's dashboard, and the body of the
    `event_type` event the sandbox sent about it."""
    before = len(bodies(sandbox, event_type, post_id(slot)))
    sandbox.dashboard_edit(post_id(slot), **changes)
    return sent(sandbox, event_type, post_id(slot), after=before)


def deliver(client, team, body: bytes, *, key: str | None = None, at: int | None = None, **kw):
    header = signature(key or secret(team), body, int(time.time()) if at is None else at)
    headers = {kw.pop("header_name", SIGNATURE_HEADER): header}
    return client.post(
        url_for(connection(team)), data=body, content_type="application/json", headers=headers
    )


def iso(when) -> str:
    return when.isoformat().replace("+00:00", "Z")


def post_id(slot) -> str:
    return slot.current_job.post_id


def reloaded(slot) -> PlannedSlot:
    return PlannedSlot.objects.for_cards().get(pk=slot.pk)


def later_than(slot, *, days: int = 2):
    return (slot.scheduled_for + timedelta(days=days)).replace(microsecond=0)


def moved(hooks, slot) -> bytes:
    """The slot's post moved two days later in Scripe's dashboard: the post.scheduled body."""
    return in_dashboard(hooks, slot, "post.scheduled", scheduledAt=iso(later_than(slot)))


def snapshot() -> list[tuple]:
    return list(PlannedSlot.objects.values_list("pk", "status", "scheduled_for", "updated_at"))


# a delivery applied ---------------------------------------------------------------------------


def test_a_post_moved_in_the_scripe_dashboard_arrives_and_the_slot_follows(
    client, team, hooks, scheduled, applied, django_capture_on_commit_callbacks
):
    later = later_than(scheduled)
    body = moved(hooks, scheduled)
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, team, body)
    assert response.status_code == 200
    slot = reloaded(scheduled)
    assert (slot.status, slot.scheduled_for) == ("scheduled", later)
    event = SlotEvent.objects.filter(slot=slot).last()
    assert event.who == "Scripe" and event.text.startswith("Rescheduled in Scripe from ")
    delivery = WebhookDelivery.objects.get()
    assert delivery.type == "post.scheduled" and delivery.processed_at is not None
    assert "rescheduled in Scripe" in delivery.outcome


def test_a_post_unscheduled_in_scripe_comes_back_to_review(
    client, team, hooks, scheduled, applied, django_capture_on_commit_callbacks
):
    body = in_dashboard(hooks, scheduled, "post.unscheduled", scheduledAt=None)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, team, body).status_code == 200
    slot = reloaded(scheduled)
    assert slot.status == "in_review" and "Unscheduled in Scripe" in slot.status_note


def test_text_edited_in_scripe_arrives_as_post_updated(
    client, team, hooks, scheduled, applied, django_capture_on_commit_callbacks
):
    body = in_dashboard(
        hooks, scheduled, "post.updated", content="Rewritten in Scripe's dashboard."
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, team, body).status_code == 200
    assert reloaded(scheduled).current_job.post_content == "Rewritten in Scripe's dashboard."


@pytest.mark.parametrize("envelope", ["object", "bare"])
def test_either_envelope_with_fields_we_do_not_know_is_applied(
    client, team, hooks, scheduled, applied, envelope, django_capture_on_commit_callbacks
):
    """The contract pins neither `{"data": {"object": …}}` nor `{"data": …}`: both are
    Scripe's, and fields added at the top or inside change nothing."""
    later = later_than(scheduled)
    payload = json.loads(moved(hooks, scheduled))
    post = {**payload["data"]["object"], "customStatusId": "cs_1", "linkedin": {"urn": "x"}}
    payload.update(apiVersion="2026-08-01", deliveryAttempt=2, livemode=False)
    if envelope == "bare":
        payload["data"] = post
    else:
        payload["data"] = {"object": post, "previousAttributes": {"scheduledAt": None}}
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, team, json.dumps(payload).encode())
    assert response.status_code == 200
    assert reloaded(scheduled).scheduled_for == later
    delivery = WebhookDelivery.objects.get()
    assert delivery.object_id == post_id(scheduled)
    assert delivery.outcome.endswith("rescheduled in Scripe")


def test_the_receiver_answers_before_the_work_is_done_and_hands_it_to_a_task(
    client, team, hooks, scheduled, monkeypatch, django_capture_on_commit_callbacks
):
    queued: list[int] = []
    monkeypatch.setattr(calendar_webhooks, "enqueue", queued.append)
    body = moved(hooks, scheduled)
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, team, body)
    assert response.status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert queued == [delivery.pk]
    assert delivery.processed_at is None
    assert reloaded(scheduled).scheduled_for == scheduled.scheduled_for  # not yet
    tasks.apply_scripe_webhook(delivery.pk)
    assert reloaded(scheduled).scheduled_for != scheduled.scheduled_for
    # A retried task finds it applied and does nothing.
    assert tasks.apply_scripe_webhook(delivery.pk) == ""


def test_the_task_goes_through_django_q(
    client, team, hooks, scheduled, django_capture_on_commit_callbacks
):
    from django_q.models import OrmQ

    body = moved(hooks, scheduled)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, team, body)
    [queued] = [task for task in OrmQ.objects.all() if task.func() == calendar_webhooks.TASK]
    assert queued.args() == (WebhookDelivery.objects.get().pk,)


# replays and refusals ---------------------------------------------------------------------------


def test_a_replayed_event_answers_2xx_and_is_applied_once(
    client, team, hooks, scheduled, applied, django_capture_on_commit_callbacks
):
    body = moved(hooks, scheduled)
    with django_capture_on_commit_callbacks(execute=True):
        first = deliver(client, team, body)
        again = deliver(client, team, body)  # signed anew, as Scripe's retry would be
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["duplicate"] is True
    assert len(applied) == 1
    assert WebhookDelivery.objects.count() == 1
    rescheduled = SlotEvent.objects.filter(slot=scheduled, text__startswith="Rescheduled")
    assert rescheduled.count() == 1


def test_a_bad_signature_is_refused_stores_nothing_and_is_logged_without_secrets(
    client, team, hooks, scheduled, applied, caplog
):
    before = snapshot()
    body = moved(hooks, scheduled)
    wrong = "whsec_" + "0" * 64
    with caplog.at_level(logging.INFO, logger="calendar_app.pipeline.webhooks"):
        response = deliver(client, team, body, key=wrong)
    assert response.status_code == 401
    assert response.json() == {"error": "bad_signature"}
    assert WebhookDelivery.objects.count() == 0 and applied == []
    assert snapshot() == before
    [line] = [r.getMessage() for r in caplog.records if r.name == "calendar_app.pipeline.webhooks"]
    assert "refused (bad_signature)" in line and str(connection(team).public_id) in line
    assert secret(team) not in line and wrong not in line


def test_a_body_changed_after_signing_is_refused(client, team, hooks, scheduled, applied):
    body = moved(hooks, scheduled)
    header = signature(secret(team), body, int(time.time()))
    tampered = body.replace(b'"scheduled"', b'"draft"', 1)
    response = client.post(
        url_for(connection(team)),
        data=tampered,
        content_type="application/json",
        headers={SIGNATURE_HEADER: header},
    )
    assert response.status_code == 401
    assert WebhookDelivery.objects.count() == 0


@pytest.mark.parametrize(
    "header, reason",
    [(None, "missing_header"), ("v1=abc", "malformed_header"), ("t=x,v1=abc", "malformed_header")],
)
def test_a_missing_or_malformed_signature_header_is_400(
    client, team, hooks, scheduled, header, reason
):
    body = moved(hooks, scheduled)
    headers = {SIGNATURE_HEADER: header} if header else {}
    response = client.post(
        url_for(connection(team)), data=body, content_type="application/json", headers=headers
    )
    assert (response.status_code, response.json()) == (400, {"error": reason})
    assert WebhookDelivery.objects.count() == 0


def test_a_delivery_signed_longer_ago_than_the_tolerance_is_refused(
    client, team, hooks, scheduled, applied, settings
):
    body = moved(hooks, scheduled)
    old = int(time.time()) - 301
    response = deliver(client, team, body, at=old)
    assert (response.status_code, response.json()) == (401, {"error": "too_old"})
    assert WebhookDelivery.objects.count() == 0
    settings.SCRIPE_WEBHOOK_TOLERANCE_SECONDS = 600  # the tolerance is a setting
    assert deliver(client, team, body, at=old).status_code == 200


def test_the_signature_header_name_is_one_setting(client, team, hooks, scheduled, settings):
    assert settings.SCRIPE_WEBHOOK_SIGNATURE_HEADER == SIGNATURE_HEADER
    settings.SCRIPE_WEBHOOK_SIGNATURE_HEADER = "X-Scripe-Hmac"
    body = moved(hooks, scheduled)
    assert deliver(client, team, body).status_code == 400
    assert deliver(client, team, body, header_name="X-Scripe-Hmac").status_code == 200


def test_an_unknown_endpoint_is_404_and_stores_nothing(client, team, hooks, scheduled):
    body = moved(hooks, scheduled)
    header = signature(secret(team), body, int(time.time()))
    for public_id in [uuid.uuid4(), "not-a-uuid"]:
        response = client.post(
            f"/hooks/scripe/{public_id}/",
            data=body,
            content_type="application/json",
            headers={SIGNATURE_HEADER: header},
        )
        assert response.status_code == 404
    # A workspace with a connection but no endpoint registered is unknown too.
    other = connection_for(team.other_workspace)
    other.save()
    response = client.post(
        url_for(other), data=body, content_type="application/json", headers={"X": header}
    )
    assert response.status_code == 404
    assert WebhookDelivery.objects.count() == 0


def test_a_signed_body_that_is_not_an_event_is_400(client, team, hooks):
    response = deliver(client, team, b'{"hello": "world"}')
    assert (response.status_code, response.json()) == (400, {"error": "malformed_event"})
    assert WebhookDelivery.objects.count() == 0


def test_refusals_are_counted_by_reason_for_the_endpoint_in_a_few_rows(client, team, hooks):
    """What the admin's panel reports. A counter per reason and hour, so a flood of forged
    deliveries adds no rows; a delivery for an address nobody has is only logged."""
    body = json.dumps({"id": "evt_1", "type": "post.updated", "data": {"id": "post_1"}})
    body = body.encode()
    wrong = "whsec_" + "0" * 64
    for _ in range(50):
        assert deliver(client, team, body, key=wrong).status_code == 401
    assert deliver(client, team, body, at=int(time.time()) - 3600).status_code == 401
    assert deliver(client, team, b'{"hello": "world"}').status_code == 400
    unsigned = client.post(url_for(connection(team)), data=body, content_type="application/json")
    assert unsigned.status_code == 400
    nobody = client.post(f"/hooks/scripe/{uuid.uuid4()}/", data=body, content_type="x/y")
    assert nobody.status_code == 404
    unregistered = connection_for(team.other_workspace)
    unregistered.save()
    assert client.post(url_for(unregistered), data=body, content_type="x/y").status_code == 404

    counts = dict(
        WebhookRefusal.objects.filter(connection=connection(team)).values_list("reason", "count")
    )
    assert counts == {
        "bad_signature": 50,
        "too_old": 1,
        "malformed_event": 1,
        "missing_header": 1,
    }
    [(reason, count)] = unregistered.webhook_refusals.values_list("reason", "count")
    assert (reason, count) == ("unknown_endpoint", 1)
    assert WebhookRefusal.objects.count() == 5
    assert connection(team).webhook_received_at is None  # nothing was accepted

    accepted = deliver(client, team, body)
    assert accepted.status_code == 200
    assert abs(connection(team).webhook_received_at - timezone.now()) < timedelta(seconds=5)


def test_the_sweep_forgets_refusal_counts_after_two_days(team, hooks):
    conn = connection(team)
    with time_machine.travel(timezone.now() - timedelta(days=3)):
        webhook_refusal_count(conn, "bad_signature")
    webhook_refusal_count(conn, "bad_signature")
    assert tasks.sweep()["forgotten_refusal_counts"] == 1
    assert WebhookRefusal.objects.get().count == 1


def test_webhooks_are_heard_while_deliveries_arrive_and_none_is_refused_since(client, team, hooks):
    body = json.dumps({"id": "evt_1", "type": "post.updated", "data": {"id": "post_1"}})
    body = body.encode()
    assert not webhook_health(connection(team)).heard  # registered, nothing arrived yet
    assert deliver(client, team, body).status_code == 200
    assert webhook_health(connection(team)).heard
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        deliver(client, team, body, key="whsec_" + "0" * 64)
        assert not webhook_health(connection(team)).heard  # refused since the last one
    with time_machine.travel(timezone.now() + timedelta(seconds=10)):
        assert deliver(client, team, body).status_code == 200  # a retry, accepted
        assert webhook_health(connection(team)).heard
    with time_machine.travel(timezone.now() + WEBHOOKS_HEARD_FOR + timedelta(minutes=1)):
        assert not webhook_health(connection(team)).heard  # silent for too long


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_only_post_is_allowed(client, team, hooks, method):
    response = getattr(client, method)(url_for(connection(team)))
    assert response.status_code == 405


def test_a_webhook_for_a_post_the_calendar_does_not_know_changes_nothing_and_is_logged(
    client, team, hooks, scheduled, applied, caplog, django_capture_on_commit_callbacks
):
    body = moved(hooks, scheduled)
    before = snapshot()
    payload = json.loads(body)
    payload["id"] = "evt_someoneelses"
    payload["data"]["object"]["id"] = "post_notonourcalendar"
    stranger = json.dumps(payload).encode()
    logs = caplog.at_level(logging.INFO, logger="calendar_app.pipeline.webhooks")
    with logs, django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, team, stranger).status_code == 200
    assert snapshot() == before
    delivery = WebhookDelivery.objects.get()
    assert delivery.outcome.startswith("unknown post post_notonourcalendar")
    assert any("not one the calendar follows" in r.getMessage() for r in caplog.records)


def test_a_post_of_another_workspace_is_not_followed(
    client, team, hooks, scheduled, applied, django_capture_on_commit_callbacks
):
    """Globex's endpoint cannot move Acme's slot, even for a post id Acme follows."""
    body = moved(hooks, scheduled)
    before = snapshot()
    other = connection_for(team.other_workspace)
    other.set_webhook_secret("whsec_" + "1" * 64, keep_previous_for=None)
    other.webhook_endpoint_id = "whe_globex"
    other.save()
    header = signature("whsec_" + "1" * 64, body, int(time.time()))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url_for(other),
            data=body,
            content_type="application/json",
            headers={SIGNATURE_HEADER: header},
        )
    assert response.status_code == 200
    assert snapshot() == before


# jobs ---------------------------------------------------------------------------------------------


def test_job_completed_makes_the_attempt_due_now_for_the_dispatcher(
    client, team, hooks, applied, monkeypatch, django_capture_on_commit_callbacks
):
    slot = written_draft(team, days=3)
    body = sent(hooks, "job.completed", slot.current_job.scripe_job_id)
    # An attempt still waiting for that job, its next poll far off and already handed out.
    GenerationJob.objects.filter(pk=slot.current_job.pk).update(
        finished=False,
        next_poll_at=timezone.now() + timedelta(minutes=5),
        dispatched_at=timezone.now(),
    )
    handed: list[list[int]] = []
    monkeypatch.setattr(dispatch, "enqueue", handed.append)
    assert generations_dispatch() == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, team, body).status_code == 200
    job = GenerationJob.objects.get(pk=slot.current_job.pk)
    assert job.dispatched_at is None
    assert abs((job.next_poll_at - timezone.now()).total_seconds()) < 5
    # The job's payload is the pipeline's business: the attempt is not applied here.
    assert not job.finished and reloaded(slot).status == "in_review"
    assert generations_dispatch() == 1 and handed == [[job.pk]]


def test_job_failed_for_a_finished_or_unknown_attempt_changes_nothing(
    client, team, hooks, applied, django_capture_on_commit_callbacks
):
    slot = written_draft(team, days=3)
    body = sent(hooks, "job.completed", slot.current_job.scripe_job_id)
    before = GenerationJob.objects.values().get(pk=slot.current_job.pk)
    payload = json.loads(body)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, team, body).status_code == 200
        payload.update(id="evt_unknownjob", type="job.failed")
        payload["data"]["object"]["id"] = "job_notours"
        assert deliver(client, team, json.dumps(payload).encode()).status_code == 200
    assert GenerationJob.objects.values().get(pk=slot.current_job.pk) == before
    outcomes = sorted(WebhookDelivery.objects.values_list("outcome", flat=True))
    assert outcomes[0].endswith("already finished") and outcomes[1].startswith("unknown job")


# rotation -----------------------------------------------------------------------------------------


def test_after_a_rotation_the_old_secret_verifies_during_the_overlap_then_not(
    client, team, hooks, settings
):
    settings.SCRIPE_WEBHOOK_SECRET_OVERLAP_SECONDS = 600
    old = secret(team)
    rotated, message = webhook_rotate(workspace=team.workspace)
    assert rotated, message
    new = secret(team)
    assert new != old

    def body(n: int) -> bytes:
        return json.dumps(
            {"id": f"evt_{n}", "type": "post.created", "data": {"object": {"id": "post_1"}}}
        ).encode()

    assert deliver(client, team, body(1), key=old).status_code == 200
    assert deliver(client, team, body(2), key=new).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(seconds=601), tick=False):
        assert deliver(client, team, body(3), key=old).status_code == 401
        assert deliver(client, team, body(4), key=new).status_code == 200


# for real, over HTTP ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("envelope", ["object", "bare"])
def test_a_real_signed_delivery_from_the_sandbox_moves_the_slot(
    live_server, team, sandbox_factory, monkeypatch, settings, envelope
):
    settings.PUBLIC_BASE_URL = live_server.url
    settings.SCRIPE_ALLOW_LOCAL_HOSTS = True
    sandbox = sandbox_factory(
        webhook_retry_seconds=(0.2, 0.5), webhook_timeout=3.0, webhook_envelope=envelope
    )
    sandbox.wire(team.workspace)
    monkeypatch.setattr(dispatch, "enqueue", lambda job_ids: None)
    # The worker's part: apply the delivery once the receiver's transaction commits.
    monkeypatch.setattr(calendar_webhooks, "enqueue", tasks.apply_scripe_webhook)
    registered, message = webhook_register(workspace=team.workspace)
    assert registered, message
    slot = written_draft(team, days=3)
    slot_approve(slot=slot, user=team.manager)

    later = later_than(reloaded(slot))
    sandbox.dashboard_edit(post_id(reloaded(slot)), scheduledAt=iso(later))

    wait_for(lambda: reloaded(slot).scheduled_for == later, 10, "the slot to follow")
    listing = httpx.get(f"{sandbox.root_url}/_sandbox/webhook-deliveries").json()["data"]
    ours = [d for d in listing if d["eventType"] == "post.scheduled"]
    assert ours and ours[-1]["status"] == "delivered"
    assert ours[-1]["attempts"][-1]["url"].startswith(f"{live_server.url}/hooks/scripe/")
    assert WebhookDelivery.objects.filter(type="post.scheduled").exists()


@pytest.mark.django_db(transaction=True)
def test_a_real_delivery_is_applied_by_a_qcluster_worker(
    live_server, team, sandbox_factory, clusters, monkeypatch, settings
):
    """The whole way: the sandbox signs and sends, the receiver stores and enqueues, a
    separate `qcluster` process runs the task."""
    settings.PUBLIC_BASE_URL = live_server.url
    settings.SCRIPE_ALLOW_LOCAL_HOSTS = True
    sandbox = sandbox_factory(webhook_retry_seconds=(0.5, 1.0), webhook_timeout=3.0)
    sandbox.wire(team.workspace)
    monkeypatch.setattr(dispatch, "enqueue", lambda job_ids: None)
    assert webhook_register(workspace=team.workspace)[0]
    slot = written_draft(team, days=3)
    slot_approve(slot=slot, user=team.manager)
    clusters()

    hooks_before = WebhookDelivery.objects.count()
    sandbox.dashboard_edit(post_id(reloaded(slot)), scheduledAt=None)

    wait_for(lambda: reloaded(slot).status == "in_review", 30, "the worker to apply it")
    assert WebhookDelivery.objects.count() > hooks_before
    # post.updated and post.unscheduled carry the same copy: whichever came first moved it.
    wait_for(
        lambda: not WebhookDelivery.objects.filter(processed_at__isnull=True).exists(), 10, "both"
    )
    outcomes = WebhookDelivery.objects.values_list("outcome", flat=True)
    assert sum(o.endswith(": unscheduled in Scripe") for o in outcomes) == 1


def test_the_sweep_forgets_processed_deliveries_after_a_week(team, wired):
    connection = connection_for(team.workspace)
    week_ago = timezone.now() - timedelta(days=8)

    def delivery(event_id: str, **times) -> None:
        WebhookDelivery.objects.create(
            connection=connection, event_id=event_id, type="post.updated", body="{}", **times
        )

    delivery("evt_old_done", received_at=week_ago, processed_at=week_ago)
    delivery("evt_old_waiting", received_at=week_ago)  # its task has not run: kept
    delivery("evt_new_done", processed_at=timezone.now())  # a retry may still come: kept
    assert tasks.sweep()["forgotten_deliveries"] == 1
    kept = set(WebhookDelivery.objects.values_list("event_id", flat=True))
    assert kept == {"evt_old_waiting", "evt_new_done"}
