"""English and German (#30): the pages, refusals, notifications, emails and CSV files in the
reader's language, dates and numbers in its locale; Scripe's writing language stays apart."""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.utils import translation
from django.utils.translation import gettext_noop

from calendar_app.interchange import csv_import
from calendar_app.models import (
    CsvImport,
    GenerationJob,
    Notification,
    PlannedSlot,
    Profile,
    WebhookDelivery,
    WebhookEndpoint,
)
from calendar_app.notifications import services as notifications
from calendar_app.pipeline.generation import FAILURE_SENTENCES
from scripe_integration.sandbox import oauth as sandbox_oauth
from scripe_integration.sentences import Said, stored

NOW = datetime(2026, 10, 15, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


def german(client, user):
    Profile.objects.update_or_create(user=user, defaults={"language": "de"})
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/calendar/2026/10/",
        "/calendar/week/2026-10-12/",
        "/calendar/day/2026-10-15/",
        "/slots/",
        "/review/",
        "/settings/",
        "/ideas/",
        "/notifications/",
        "/insights/",
        "/queue/",
    ],
)
def test_pages_speak_german_to_a_german_reader(client, team, url):
    team.slot(datetime(2026, 10, 20, 7, 30, tzinfo=UTC), status="in_review")
    response = german(client, team.manager).get(url)
    assert response.status_code == 200, url
    page = response.content.decode()
    assert '<html lang="de">' in page
    assert "Alle Beiträge" in page and "All posts" not in page
    assert "Ihre Einstellungen" in page


def test_the_month_page_names_months_and_days_in_german(client, team):
    team.slot(datetime(2026, 10, 20, 7, 30, tzinfo=UTC))
    page = german(client, team.editor).get("/calendar/2026/10/").content.decode()
    assert "Oktober 2026" in page
    assert "Zeiten in Europe/Berlin." in page
    week = client.get("/calendar/week/2026-10-12/").content.decode()
    assert "12. Okt – 18. Okt 2026" in week


def test_a_refusal_on_the_new_post_form_is_german_and_nothing_is_saved(client, team):
    response = german(client, team.editor).post(
        "/slots/new/",
        {
            "project": team.project.pk,
            "note_text": "Weniger Meetings.",
            "language": "de",
            "date": "2026-10-01",
            "time": "09:30",
        },
    )
    page = response.content.decode()
    assert "Der 1. Okt 2026 ist vorbei. Wählen Sie heute oder einen späteren Tag." in page
    assert not PlannedSlot.objects.exists()


def test_a_length_refusal_counts_in_german_numbers(client, team):
    response = german(client, team.editor).post(
        "/slots/new/",
        {
            "project": team.project.pk,
            "note_text": "x" * 100_001,
            "language": "en",
            "date": "2026-10-20",
            "time": "09:30",
        },
    )
    assert "100.001 Zeichen lang; das Limit liegt bei 100.000" in response.content.decode()


def test_the_post_language_is_not_the_interface_language(client, team):
    """A German planner may still have Scripe write in English (options.language)."""
    german(client, team.editor).post(
        "/slots/new/",
        {
            "project": team.project.pk,
            "note_text": "Weniger Meetings.",
            "language": "en",
            "date": "2026-10-20",
            "time": "09:30",
        },
    )
    assert PlannedSlot.objects.get().note.language == "en"


def test_a_notification_and_its_email_are_in_the_recipients_language(team, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    team.admin.email = "ada@example.com"
    team.admin.save()
    Profile.objects.create(user=team.admin, language="de")
    # Told while the person who caused it reads English.
    (row,) = notifications.key_invalid_notify(workspace_id=team.workspace.pk, message="Nope.")
    assert row.text == "Scripe lehnt den Schlüssel von Acme ab: Es kann nichts generiert werden"
    notifications.notification_email_send(notification_id=row.pk)
    (sent,) = mail.outbox
    assert "Scripe lehnt den Schlüssel von Acme ab" in sent.subject
    assert "Wählen Sie, was Sie per E-Mail erhalten" in sent.body
    assert "Keine E-Mails mehr über Scripe-Schlüssel, die nicht mehr funktionieren" in sent.body


def test_an_english_reader_gets_english_whatever_the_senders_language(team, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    team.admin.email = "ada@example.com"
    team.admin.save()
    from django.utils import translation

    with translation.override("de"):
        (row,) = notifications.key_invalid_notify(workspace_id=team.workspace.pk, message="No.")
        notifications.notification_email_send(notification_id=row.pk)
    assert Notification.objects.get().text.startswith("Scripe refuses the key of Acme")
    assert "Choose what you get by email" in mail.outbox[0].body


def test_the_export_is_in_the_readers_language_and_reads_back(client, team):
    team.slot(datetime(2026, 10, 20, 7, 30, tzinfo=UTC), text="Erste Zeile")
    german(client, team.editor)
    data = b"".join(client.get("/slots/export.csv").streaming_content)
    header = data.decode("utf-8-sig").splitlines()[0]
    assert header.startswith("datum,uhrzeit,zeitzone,workspace,projekt")
    upload = CsvImport.objects.create(
        workspace=team.workspace, created_by=team.editor, text=csv_import.decode(data)
    )
    preview = csv_import.import_preview(
        upload=upload,
        projects=list(team.workspace.projects.all()),
        zone=zoneinfo.ZoneInfo("Europe/Berlin"),
    )
    (row,) = preview.rows
    assert row.when == datetime(2026, 10, 20, 7, 30, tzinfo=UTC)
    assert row.note_text == "Erste Zeile"


def test_the_importer_reads_german_headers_and_language_names(team):
    text = "Datum;Uhrzeit;Projekt;Notiz;Sprache\n20.10.2026;09:30;Lena Fischer;Eine Idee;Deutsch\n"
    upload = CsvImport.objects.create(workspace=team.workspace, created_by=team.editor, text=text)
    preview = csv_import.import_preview(
        upload=upload,
        projects=list(team.workspace.projects.all()),
        zone=zoneinfo.ZoneInfo("Europe/Berlin"),
    )
    (row,) = preview.rows
    assert row.errors == []
    assert (row.when, row.project, row.language) == (
        datetime(2026, 10, 20, 7, 30, tzinfo=UTC),
        team.project,
        "de",
    )


class _Handler:
    def __init__(self, accept: str) -> None:
        self.headers = {"Accept-Language": accept}


@pytest.mark.parametrize(
    ("accept", "language"),
    [("de-DE,de;q=0.9,en;q=0.8", "de"), ("fr, en;q=0.5, de;q=0.4", "en"), ("", "en")],
)
def test_the_sandbox_consent_page_follows_the_browser(accept, language):
    assert sandbox_oauth._language(_Handler(accept)) == language


def test_the_sandbox_has_its_own_german_catalogue():
    _ = sandbox_oauth._translator("de")
    assert _("Authorize access to Scripe") == "Zugriff auf Scripe erlauben"


def test_the_scripts_sentences_come_in_the_readers_language(client, team):
    response = german(client, team.editor).get("/jsi18n/")
    assert response.status_code == 200
    assert "Der Beitrag wurde nicht verschoben" in response.content.decode()
    page = client.get("/calendar/2026/10/").content.decode()
    assert '<script src="/jsi18n/"></script>' in page


def _failed(team, code, message):
    slot = team.slot(datetime(2026, 10, 20, 7, 30, tzinfo=UTC), status="failed")
    GenerationJob.objects.create(
        slot=slot,
        attempt=1,
        is_current=True,
        idempotency_key=uuid.uuid4().hex,
        finished=True,
        error_code=code,
        error_message=stored(message)[0],
        error_params=stored(message)[1],
    )
    return slot


def test_a_generation_failure_stored_in_english_is_shown_in_the_readers_language(client, team):
    slot = _failed(team, "content_policy", FAILURE_SENTENCES["content_policy"])
    german_page = german(client, team.editor).get(f"/slots/{slot.public_id}/").content.decode()
    assert "Die Inhaltsrichtlinie von Scripe hat die Notiz beanstandet." in german_page
    assert "content policy flagged" not in german_page
    month = client.get("/calendar/2026/10/").content.decode()
    assert "Die Inhaltsrichtlinie von Scripe hat die Notiz beanstandet." in month

    Profile.objects.filter(user=team.editor).update(language="en")
    english = client.get(f"/slots/{slot.public_id}/").content.decode()
    assert "Scripe&#x27;s content policy flagged the note. Rephrase it and retry." in english


def test_scripes_own_words_stay_inside_a_german_sentence(client, team):
    slot = _failed(
        team,
        "weird",
        Said(
            gettext_noop("Scripe could not write the post: %(reason)s"), reason="Model overloaded"
        ),
    )
    page = german(client, team.editor).get(f"/slots/{slot.public_id}/").content.decode()
    assert "Scripe konnte den Beitrag nicht schreiben: Model overloaded" in page


def test_a_webhook_delivery_error_is_shown_in_the_readers_language():
    delivery = WebhookDelivery(error="The receiver answered 503.")
    endpoint = WebhookEndpoint(disabled_reason="Every delivery failed for 24 hours.")
    with translation.override("de"):
        assert delivery.error_sentence == "Der Empfänger hat mit 503 geantwortet."
        assert endpoint.disabled_sentence == ("Jede Zustellung ist 24 Stunden lang fehlgeschlagen.")
        assert WebhookDelivery(error="Not sent: the endpoint is turned off.").error_sentence == (
            "Nicht gesendet: Der Endpunkt ist ausgeschaltet."
        )
    assert delivery.error_sentence == "The receiver answered 503."
