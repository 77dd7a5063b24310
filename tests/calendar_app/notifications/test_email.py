"""Notification email: sent by the task through Django's SMTP backend to a real SMTP server
(aiosmtpd, started on a free port), retried with backoff when the server cannot be reached
and recorded on the row, the daily digest, and the unsubscribe link of a real email."""

from __future__ import annotations

import email
import re
import socket
from datetime import timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone
from django_q.models import Schedule

from calendar_app.models import Notification, NotificationKind
from calendar_app.notifications import services as notifications
from calendar_app.tasks import notification_digests, send_notification_email

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


class Inbox:
    """What the SMTP server received, as parsed messages."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(settings):
    """A real SMTP server on a free port, and Django's SMTP backend pointed at it."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = SMTP_BACKEND
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    settings.EMAIL_LINK_BASE_URL = "https://cal.example.com"
    yield inbox
    controller.stop()


@pytest.fixture
def nobody_listening(settings):
    """SMTP pointed at a port where no server listens: every send fails."""
    settings.EMAIL_BACKEND = SMTP_BACKEND
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 2


@pytest.fixture
def slot(team):
    return team.slot(timezone.now() + timedelta(days=3))


def tell(team, slot=None, *, email="pending", kind="rejected", user=None, **fields):
    user = user or team.editor
    if not user.email:
        user.email = f"{user.username}@example.com"
        user.save(update_fields=["email"])
    return Notification.objects.create(
        user=user,
        workspace=team.workspace,
        slot=slot,
        kind=kind,
        text=fields.pop("text", "Rejected: Lena Fischer, Thu 03 Dec 10:00 (by Max)"),
        detail=fields.pop("detail", "Not our voice."),
        email=email,
        **fields,
    )


def test_the_task_sends_through_a_real_smtp_server(team, slot, smtp):
    row = tell(team, slot)
    assert send_notification_email(row.pk) == "sent"
    [message] = smtp.messages
    assert message["To"] == "erin@example.com"
    assert (
        message["Subject"] == "[Scripe Calendar] Rejected: Lena Fischer, Thu 03 Dec 10:00 (by Max)"
    )
    body = message.get_content()
    assert "Not our voice." in body
    assert f"https://cal.example.com/slots/{slot.public_id}/" in body
    unsubscribe = str(message["List-Unsubscribe"]).strip()
    assert unsubscribe.startswith("<https://cal.example.com/notifications/unsubscribe/")
    assert str(message["List-Unsubscribe-Post"]).strip() == "List-Unsubscribe=One-Click"
    row.refresh_from_db()
    assert (row.email, row.email_attempts, row.email_error) == ("sent", 1, "")
    assert row.emailed_at is not None


@pytest.mark.parametrize("kind", list(NotificationKind))
def test_each_kinds_footer_says_what_it_stops_in_words(team, slot, smtp, kind):
    """Not "Stop emails about changes were requested" (#24): the kinds' labels are
    sentences, the footer names what the emails are about."""
    send_notification_email(tell(team, slot, kind=kind).pk)
    body = smtp.messages[0].get_content()
    about = re.search(r"Stop emails about (.*?): https://", body).group(1)
    assert about == notifications.ABOUT[kind]
    assert not about.lower().startswith(("a ", "an ", "the "))  # a thing, not a sentence
    assert kind.label.lower() not in body


def test_an_email_ends_its_first_sentence_once(team, slot, smtp):
    """A notification's text may end with a full stop of its own (a workspace called
    "Acme Inc."): the email adds none after it (#24)."""
    tell(team, slot, kind="spend_cap", text="Scripe's daily spend cap is reached for Acme Inc.")
    tell(team, slot, email="digest", text="Scripe's daily spend cap is reached for Acme Inc.")
    tell(team, slot, email="digest", text="Rejected: Lena Fischer, Thu 3 Dec 10:00 (by Max)")
    send_notification_email(Notification.objects.get(email="pending").pk)
    notification_digests()
    single, digest = (m.get_content().splitlines() for m in smtp.messages)
    assert single[0] == "Scripe's daily spend cap is reached for Acme Inc."
    entries = [line for line in digest if line.startswith("- ")]
    assert [entry.rsplit(" ", 1)[1] for entry in entries] == ["Inc.", "Max)."]


def test_a_task_delivered_twice_sends_once(team, slot, smtp):
    row = tell(team, slot)
    send_notification_email(row.pk)
    assert send_notification_email(row.pk) == "nothing to send"
    assert len(smtp.messages) == 1


def test_the_unsubscribe_link_of_a_real_email_works_without_logging_in(client, team, slot, smtp):
    send_notification_email(tell(team, slot).pk)
    body = smtp.messages[0].get_content()
    url = re.search(r"Stop emails about .*?: https://cal\.example\.com(\S+)", body).group(1)
    page = client.get(url)
    assert page.status_code == 200 and "Stop emails about rejected drafts" in page.content.decode()
    assert notifications.preferences_for(team.editor)["rejected"] == "immediate"
    client.post(url, {"scope": "kind"})
    assert notifications.preferences_for(team.editor)["rejected"] == "off"


def test_a_failed_send_is_recorded_and_retried_later_with_backoff(team, slot, nobody_listening):
    row = tell(team, slot)
    before = timezone.now()
    result = send_notification_email(row.pk)
    assert result.startswith("failed, retrying in 60 s")
    row.refresh_from_db()
    assert (row.email, row.email_attempts) == ("pending", 1)
    assert "ConnectionRefusedError" in row.email_error
    [retry] = Schedule.objects.filter(func="calendar_app.tasks.send_notification_email")
    assert retry.schedule_type == Schedule.ONCE and retry.args == f"({row.pk},)"
    assert timedelta(seconds=55) <= retry.next_run - before <= timedelta(seconds=70)


def test_a_send_that_keeps_failing_is_marked_failed_after_the_last_try(
    team, slot, nobody_listening
):
    row = tell(team, slot)
    for _ in range(notifications.MAX_EMAIL_ATTEMPTS):
        send_notification_email(row.pk)
    row.refresh_from_db()
    assert (row.email, row.email_attempts) == ("failed", notifications.MAX_EMAIL_ATTEMPTS)
    # One retry scheduled after each failure but the last, each later than the one before.
    retries = Schedule.objects.filter(func="calendar_app.tasks.send_notification_email")
    delays = list(retries.order_by("id").values_list("next_run", flat=True))
    assert len(delays) == len(notifications.RETRY_DELAYS) and delays == sorted(delays)
    assert send_notification_email(row.pk) == "nothing to send"


def test_a_retry_succeeds_once_the_server_is_back(team, slot, settings):
    row = tell(team, slot)
    settings.EMAIL_BACKEND = SMTP_BACKEND
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = False, 2
    send_notification_email(row.pk)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=settings.EMAIL_PORT)
    controller.start()
    try:
        assert send_notification_email(row.pk) == "sent"
    finally:
        controller.stop()
    row.refresh_from_db()
    assert (row.email, row.email_attempts, row.email_error) == ("sent", 2, "")
    assert len(inbox.messages) == 1


def test_a_failed_send_never_undoes_the_event(team, wired, nobody_listening):
    from calendar_app.review.services import slot_reject
    from tests.support import written_draft

    team.editor.email = "erin@example.com"
    team.editor.save()
    slot = written_draft(team)
    slot_reject(slot=slot, user=team.manager, reason="No.")
    row = Notification.objects.get(kind="rejected")
    send_notification_email(row.pk)
    slot.refresh_from_db()
    assert slot.status == "rejected"
    row.refresh_from_db()
    assert row.email == "pending" and row.email_error


# the digest ----------------------------------------------------------------------------------


def test_the_digest_sends_one_email_per_person_with_everything_since_the_last(team, slot, smtp):
    tell(team, slot, email="digest", kind="approved", text="Approved and scheduled: Lena")
    tell(team, slot, email="digest", kind="published", text="Published: Lena")
    tell(team, email="digest", kind="review_ready", text="Ready for review: X", user=team.manager)
    tell(team, slot, email="pending", text="Sent on its own")  # not in the digest
    tell(team, slot, email="none", text="Not by email")

    assert notification_digests() == 2
    by_person = {m["To"]: m for m in smtp.messages}
    assert set(by_person) == {"erin@example.com", "max@example.com"}
    erin = by_person["erin@example.com"]
    assert erin["Subject"] == "[Scripe Calendar] 2 updates since your last digest"
    body = erin.get_content()
    assert body.index("Approved and scheduled: Lena") < body.index("Published: Lena")
    assert "Sent on its own" not in body and "Not by email" not in body
    assert "Stop all emails: https://cal.example.com/notifications/unsubscribe/" in body
    assert set(
        Notification.objects.filter(kind__in=["approved", "published"]).values_list(
            "email", flat=True
        )
    ) == {"sent"}

    # The next digest has nothing new to say, so it sends nothing.
    smtp.messages.clear()
    assert notification_digests() == 0
    assert smtp.messages == []


def test_a_failed_digest_keeps_its_rows_for_the_retry(team, slot, nobody_listening):
    rows = [tell(team, slot, email="digest") for _ in range(2)]
    notification_digests()
    for row in rows:
        row.refresh_from_db()
        assert (row.email, row.email_attempts) == ("digest", 1) and row.email_error
    [retry] = Schedule.objects.filter(func="calendar_app.tasks.send_notification_digest")
    assert retry.args == f"({team.editor.pk},)"


def test_the_digest_is_a_daily_schedule(db):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("calendar_app.migrations.0010_notifications")
    Schedule.objects.filter(name=migration.DIGEST).delete()  # a flush may have taken it
    migration.create_digest_schedule(apps, None)
    schedule = Schedule.objects.get(name=migration.DIGEST)
    assert (schedule.func, schedule.schedule_type) == (
        "calendar_app.tasks.notification_digests",
        Schedule.DAILY,
    )
    assert schedule.next_run > timezone.now() and schedule.next_run.hour == migration.DIGEST_HOUR


def test_email_is_printed_to_the_console_until_an_smtp_server_is_named(monkeypatch):
    from tests.config.test_settings import load_settings

    for name in ("EMAIL_HOST", "EMAIL_PORT", "EMAIL_USE_TLS", "DEFAULT_FROM_EMAIL"):
        monkeypatch.delenv(name, raising=False)
    s = load_settings(monkeypatch)
    assert s["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    s = load_settings(
        monkeypatch,
        EMAIL_HOST="smtp.example.com",
        EMAIL_PORT="2525",
        EMAIL_HOST_USER="cal",
        EMAIL_HOST_PASSWORD="pw",
        DEFAULT_FROM_EMAIL="Calendar <cal@example.com>",
    )
    assert s["EMAIL_BACKEND"] == SMTP_BACKEND
    assert (s["EMAIL_HOST"], s["EMAIL_PORT"], s["EMAIL_USE_TLS"]) == (
        "smtp.example.com",
        2525,
        True,
    )
    assert (s["EMAIL_HOST_USER"], s["DEFAULT_FROM_EMAIL"]) == ("cal", "Calendar <cal@example.com>")
    assert s["EMAIL_LINK_BASE_URL"] == "http://127.0.0.1:8000"


# What a stopped worker leaves behind -------------------------------------------------------------


@pytest.fixture
def handed(monkeypatch, django_capture_on_commit_callbacks):
    """The ids the sweep hands to the email task (after its transaction commits)."""
    ids: list[int] = []
    monkeypatch.setattr(notifications, "enqueue_emails", lambda pks: ids.extend(pks))

    def sweep(**kwargs) -> list[int]:
        ids.clear()
        with django_capture_on_commit_callbacks(execute=True):
            notifications.notification_emails_sweep(**kwargs)
        return list(ids)

    return sweep


def left_sending(team, slot, minutes_ago: int, **fields) -> Notification:
    return tell(
        team,
        slot,
        email="sending",
        email_attempts=fields.pop("email_attempts", 1),
        email_state_at=timezone.now() - timedelta(minutes=minutes_ago),
        **fields,
    )


def test_a_send_a_stopped_worker_left_is_handed_on_and_sent(team, slot, smtp, handed):
    row = left_sending(team, slot, minutes_ago=11)
    assert handed() == [row.pk]
    row.refresh_from_db()
    assert row.email == "pending" and "Interrupted while sending" in row.email_error
    assert send_notification_email(row.pk) == "sent"
    assert len(smtp.messages) == 1
    assert handed() == []  # sent: nothing left to hand on


def test_a_send_still_under_way_is_left_alone(team, slot, handed):
    row = left_sending(team, slot, minutes_ago=2)
    assert handed() == []
    row.refresh_from_db()
    assert row.email == "sending"


def test_an_interrupted_send_follows_what_the_person_asks_for_now(team, slot, handed):
    from calendar_app.models import NotificationPreference

    digest = left_sending(team, slot, minutes_ago=30, user=team.editor)
    NotificationPreference.objects.create(user=team.editor, kind="rejected", email="digest")
    off = left_sending(team, slot, minutes_ago=30, user=team.manager)
    NotificationPreference.objects.create(user=team.manager, kind="rejected", email="off")
    last = left_sending(team, slot, minutes_ago=30, user=team.admin, email_attempts=4)
    assert handed() == []
    states = dict(Notification.objects.values_list("pk", "email"))
    assert states == {digest.pk: "digest", off.pk: "none", last.pk: "failed"}


def test_an_email_whose_task_was_lost_is_handed_on_once(team, slot, handed):
    lost = tell(team, slot, email_state_at=timezone.now() - timedelta(minutes=41))
    # Waiting for its retry (the longest is 30 minutes) or for a task just enqueued.
    waiting = tell(team, slot, email_state_at=timezone.now() - timedelta(minutes=31))
    assert handed() == [lost.pk]
    assert handed() == []
    assert waiting.pk not in handed(now=timezone.now() + timedelta(minutes=5))
    assert handed(now=timezone.now() + timedelta(minutes=10)) == [waiting.pk]
