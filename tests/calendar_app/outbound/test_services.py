"""Outgoing webhooks: a real receiver on a local port gets signed deliveries, retried on
schedule, and an endpoint failing for a day is turned off with its admins told."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from calendar_app import tasks
from calendar_app.core.refusals import Refusal
from calendar_app.models import Notification, NotificationKind, WebhookDelivery, WebhookEndpoint
from calendar_app.notifications.trail import Kind, record
from calendar_app.outbound import events, services
from scripe_integration import crypto
from scripe_integration.webhooks import WebhookVerificationError, verify_webhook
from tests.support import Receiver

Status = WebhookDelivery.Status


@pytest.fixture
def receiver():
    started = Receiver()
    yield started
    started.stop()


@pytest.fixture
def enqueued(monkeypatch, settings):
    settings.OUTGOING_WEBHOOKS_ALLOW_LOCAL = True
    ids: list[int] = []
    monkeypatch.setattr(events, "enqueue", lambda pks: ids.extend(pks))
    return ids


def _endpoint(team, url, events=("post.planned",)):
    return services.endpoint_create(
        workspace=team.workspace, user=team.admin, url=url, events=list(events)
    )


def _planned(team, django_capture_on_commit_callbacks):
    slot = team.slot(timezone.now() + timedelta(days=2))
    with django_capture_on_commit_callbacks(execute=True):
        record(slot, kind=Kind.STATUS, actor=team.editor, text="Planned.")
    return slot


def test_it_sends_a_signed_delivery_the_documented_check_accepts(
    team, receiver, enqueued, django_capture_on_commit_callbacks
):
    _, secret = _endpoint(team, receiver.url)
    slot = _planned(team, django_capture_on_commit_callbacks)

    assert len(enqueued) == 1
    assert tasks.send_webhook(enqueued[0]) == "delivered"

    (headers, body), *_ = receiver.requests
    verify_webhook(secret, body, headers["Calendar-Signature"])
    payload = json.loads(body)
    assert payload["type"] == "post.planned"
    assert payload["id"].startswith("evt_")
    assert payload["data"]["post"]["id"] == str(slot.public_id)
    assert payload["data"]["post"]["status"] == "draft"
    assert headers["Calendar-Event"] == "post.planned"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.response_status, delivery.attempts) == (
        Status.DELIVERED,
        200,
        1,
    )
    assert delivery.response_head == "ok"
    assert delivery.duration_ms is not None
    assert delivery.body.encode() == body
    with pytest.raises(WebhookVerificationError):
        verify_webhook("whsec_someone_else", body, headers["Calendar-Signature"])


def test_it_stores_the_secret_encrypted(team, receiver, enqueued):
    endpoint, secret = _endpoint(team, receiver.url)
    assert secret.startswith("whsec_")
    assert secret not in endpoint.secret_encrypted
    assert crypto.decrypt(endpoint.secret_encrypted) == secret


def test_it_queues_nothing_for_unsubscribed_events_or_other_workspaces(
    team, receiver, enqueued, django_capture_on_commit_callbacks
):
    _endpoint(team, receiver.url, events=["post.published"])
    services.endpoint_create(
        workspace=team.other_workspace,
        user=team.outsider,
        url=receiver.url,
        events=["post.planned"],
    )
    _planned(team, django_capture_on_commit_callbacks)
    assert enqueued == []
    assert not WebhookDelivery.objects.exists()


def test_it_costs_one_query_where_nobody_listens(team, django_assert_num_queries):
    slot = team.slot(timezone.now() + timedelta(days=2))
    event = record(slot, kind=Kind.COMMENT, actor=team.editor, text="Nice.")
    with django_assert_num_queries(1):
        assert events.webhooks_emit(slot=slot, event=event) == []


def test_it_retries_a_failing_receiver_on_schedule_then_turns_the_endpoint_off(
    team, receiver, enqueued, django_capture_on_commit_callbacks
):
    receiver.status, receiver.answer = 500, b"Internal error\nline 2\n"
    endpoint, _ = _endpoint(team, receiver.url)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        _planned(team, django_capture_on_commit_callbacks)
        delivery_id = enqueued.pop()
        assert tasks.send_webhook(delivery_id) == "failed"
        delivery = WebhookDelivery.objects.get(pk=delivery_id)
        assert delivery.next_attempt_at == start + timedelta(minutes=1)
        assert delivery.response_status == 500
        assert delivery.response_head == "Internal error\nline 2"
        assert delivery.error == "The receiver answered 500."

        # Not due yet: the sweep hands nothing on, and a stray task sends nothing.
        assert services.deliveries_wake() == 0
        assert tasks.send_webhook(delivery_id) == "not due"

        tried_at = []
        for minutes in (1, 5, 30, 120, 360, 720, 1440):
            clock.move_to(start + timedelta(minutes=minutes))
            assert services.deliveries_wake() == 1
            assert tasks.send_webhook(enqueued.pop()) == "failed"
            tried_at.append(minutes)
        assert tried_at == [1, 5, 30, 120, 360, 720, 1440]

    assert len(receiver.requests) == 8
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (
        Status.FAILED,
        8,
        None,
    )
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert "24 hours" in endpoint.disabled_reason
    told = Notification.objects.get(kind=NotificationKind.WEBHOOK_DISABLED)
    assert told.user == team.admin
    assert receiver.url in told.text
    assert services.deliveries_wake() == 0


def test_a_success_clears_the_failures(
    team, receiver, enqueued, django_capture_on_commit_callbacks
):
    receiver.status = 503
    endpoint, _ = _endpoint(team, receiver.url)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        _planned(team, django_capture_on_commit_callbacks)
        tasks.send_webhook(enqueued.pop())
        endpoint.refresh_from_db()
        assert endpoint.failing_since == start
        receiver.status = 204
        clock.move_to(start + timedelta(minutes=1))
        services.deliveries_wake()
        assert tasks.send_webhook(enqueued.pop()) == "delivered"
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None and endpoint.is_active


def test_a_rotation_signs_with_both_secrets_for_a_day(
    team, receiver, enqueued, django_capture_on_commit_callbacks
):
    endpoint, old = _endpoint(team, receiver.url)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        new = services.endpoint_rotate(endpoint=endpoint)
        assert new != old
        _planned(team, django_capture_on_commit_callbacks)
        tasks.send_webhook(enqueued.pop())
        headers, body = receiver.requests[-1]
        assert headers["Calendar-Signature"].count("v1=") == 2
        # Either secret proves it: a receiver can switch at its own pace.
        verify_webhook(old, body, headers["Calendar-Signature"], now=start.timestamp())
        verify_webhook(new, body, headers["Calendar-Signature"], now=start.timestamp())

        later = start + timedelta(hours=24, minutes=1)
        clock.move_to(later)
        _planned(team, django_capture_on_commit_callbacks)
        tasks.send_webhook(enqueued.pop())
        headers, body = receiver.requests[-1]
        assert headers["Calendar-Signature"].count("v1=") == 1
        verify_webhook(new, body, headers["Calendar-Signature"], now=later.timestamp())
        with pytest.raises(WebhookVerificationError):
            verify_webhook(old, body, headers["Calendar-Signature"], now=later.timestamp())


def test_it_refuses_a_private_address_without_the_setting(
    team, receiver, enqueued, settings, django_capture_on_commit_callbacks
):
    _endpoint(team, receiver.url)  # allowed while the setting is on
    settings.OUTGOING_WEBHOOKS_ALLOW_LOCAL = False
    for url in (receiver.url, "https://127.0.0.1/hooks", "https://169.254.169.254/latest"):
        with pytest.raises(Refusal) as refused:
            _endpoint(team, url)
        assert refused.value.fields["url"] == "Use an https address on the public internet."

    _planned(team, django_capture_on_commit_callbacks)
    assert tasks.send_webhook(enqueued.pop()) == "failed"
    assert receiver.requests == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.response_status is None
    assert delivery.error.startswith("Could not connect")


def test_send_again_sends_the_same_bytes_with_a_new_signature(
    team, receiver, enqueued, django_capture_on_commit_callbacks
):
    _endpoint(team, receiver.url)
    slot = _planned(team, django_capture_on_commit_callbacks)
    tasks.send_webhook(enqueued.pop())
    # The post changes meanwhile: the stored body stays what was sent.
    record(slot, kind=Kind.COMMENT, actor=team.editor, text="Later.")
    delivery = WebhookDelivery.objects.get()
    with time_machine.travel(timezone.now() + timedelta(seconds=5), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            services.delivery_send_again(delivery=delivery)
        assert tasks.send_webhook(enqueued.pop()) == "delivered"
    (first_headers, first), (again_headers, again) = receiver.requests
    assert first == again
    assert first_headers["Calendar-Signature"] != again_headers["Calendar-Signature"]
    delivery.refresh_from_db()
    assert delivery.attempts == 2


def test_send_again_is_refused_while_the_endpoint_is_off(team, receiver, enqueued):
    endpoint, _ = _endpoint(team, receiver.url)
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event_id="evt_1", event_type="post.planned", status=Status.FAILED
    )
    services.endpoint_disable(endpoint=endpoint)
    with pytest.raises(Refusal, match="Turn the endpoint on"):
        services.delivery_send_again(delivery=delivery)
    with pytest.raises(Refusal, match="turned off already"):
        services.endpoint_disable(endpoint=endpoint)
    services.endpoint_enable(endpoint=endpoint)
    assert WebhookEndpoint.objects.get().is_active


def test_it_refuses_bad_input_with_sentences_by_field(team, enqueued):
    with pytest.raises(Refusal) as refused:
        services.endpoint_validate(url="", events=["post.nonsense"], description="x" * 201)
    assert set(refused.value.fields) == {"url", "events", "description"}
    assert not WebhookEndpoint.objects.exists()


def test_it_connects_to_no_private_address_behind_https(team, receiver, enqueued, settings):
    endpoint, _ = _endpoint(team, receiver.url)
    port = receiver.url.split(":")[2].split("/")[0]
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=f"https://127.0.0.1:{port}/")
    settings.OUTGOING_WEBHOOKS_ALLOW_LOCAL = False
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_id="evt_1",
        event_type="post.planned",
        body='{"id":"evt_1"}',
        next_attempt_at=timezone.now(),
    )
    assert tasks.send_webhook(delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert delivery.error == "Could not connect: Use an https address on the public internet"
    assert receiver.requests == []


def test_a_body_that_cannot_be_built_ends_the_delivery(team, receiver, enqueued):
    endpoint, _ = _endpoint(team, receiver.url)
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_id="evt_1",
        event_type="post.planned",
        next_attempt_at=timezone.now(),
    )

    def broken(delivery):
        raise RuntimeError("a bug")

    assert services.delivery_send(delivery_id=delivery.pk, body_for=broken).outcome == "broken"
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    assert receiver.requests == []


def test_the_log_forgets_finished_deliveries_after_a_month(team, receiver, enqueued):
    endpoint, _ = _endpoint(team, receiver.url)
    old = timezone.now() - timedelta(days=31)
    for status in (Status.DELIVERED, Status.FAILED, Status.PENDING):
        WebhookDelivery.objects.create(
            endpoint=endpoint,
            event_id="evt_1",
            event_type="post.planned",
            status=status,
            created_at=old,
        )
    WebhookDelivery.objects.create(
        endpoint=endpoint, event_id="evt_2", event_type="post.planned", status=Status.DELIVERED
    )
    assert services.deliveries_forget() == 2
    assert WebhookDelivery.objects.count() == 2


@pytest.fixture
def ingesting(team, sandbox_factory, monkeypatch, settings, tmp_path):
    """A sandbox wired to the team's workspace that ingests sources; tasks run by the test."""
    from calendar_app.pipeline import dispatch

    settings.SOURCE_UPLOAD_DIR = str(tmp_path / "sources")
    sandbox = sandbox_factory(ingest_seconds=(0.3, 0.5), queue_seconds=0.1)
    sandbox.wire(team.workspace)
    monkeypatch.setattr(dispatch, "enqueue_sources", lambda ids: None)
    return sandbox


def test_a_source_becoming_ready_sends_source_ready_once_with_the_apis_source(
    team, receiver, enqueued, ingesting, monkeypatch, django_capture_on_commit_callbacks
):
    from calendar_app.sources.services import source_create_text
    from tests.calendar_app.sources.conftest import ingest_finish

    announced: list[int] = []
    monkeypatch.setattr(events, "announce", announced.append)
    _endpoint(team, receiver.url, events=["source.ready"])
    source = source_create_text(user=team.editor, project=team.project, text="Plan on Fridays.")
    with django_capture_on_commit_callbacks(execute=True):
        ingest_finish(source.pk)
        ingest_finish(source.pk)  # read again: it was ready already, nothing new to tell
    assert announced == [source.pk]

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.announce_source_ready(source.pk) == 1
    assert tasks.send_webhook(enqueued[0]) == "delivered"
    (headers, body), *_ = receiver.requests
    payload = json.loads(body)
    assert headers["Calendar-Event"] == "source.ready"
    told = payload["data"]["source"]
    assert (told["id"], told["status"]) == (str(source.public_id), "ready")
    assert told["textPreview"].startswith("Plan on Fridays")
    assert told["project"]["id"] == team.project.scripe_id


def test_a_ready_source_tells_nobody_when_no_endpoint_listens(team, ingesting, monkeypatch):
    from calendar_app.sources.services import source_create_text
    from tests.calendar_app.sources.conftest import ingest_finish

    announced: list[int] = []
    monkeypatch.setattr(events, "announce", announced.append)
    source = source_create_text(user=team.editor, project=team.project, text="Plan on Fridays.")
    assert ingest_finish(source.pk).status == "ready"
    assert announced == []


def test_it_says_a_name_that_does_not_resolve_is_not_found(team, settings, monkeypatch):
    import socket

    def nowhere(host, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", nowhere)
    settings.OUTGOING_WEBHOOKS_ALLOW_LOCAL = False
    with pytest.raises(Refusal) as refused:
        _endpoint(team, "https://example.com/hook")
    assert refused.value.fields["url"] == "We could not find example.com; check the address."
    assert not WebhookEndpoint.objects.exists()
