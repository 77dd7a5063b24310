"""A German team's journey (#30): the month page, the new-post form with its refusals, a day
picked in the German date widget planned at the right time, the review screen and the
email, all in German."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation
from django.utils.formats import date_format

from calendar_app.models import Notification, NotificationKind, PlannedSlot, Profile
from calendar_app.notifications.services import notification_email
from calendar_app.pipeline.generation import generation_request
from tests.browser.conftest import next_wednesday
from tests.support import generation_finish

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
BERLIN = ZoneInfo("Europe/Berlin")


def in_german(value, format_: str) -> str:
    with translation.override("de"):
        return date_format(value, format_)


def test_a_german_team_plans_reviews_and_is_emailed_in_german(journey, time_machine):
    team = journey.team
    for user in (team.editor, team.manager):
        Profile.objects.create(user=user, language="de")
    journey.allowed_statuses = {422}  # the refused form
    wednesday = next_wednesday()
    time_machine.move_to(wednesday, tick=True)
    page = journey.page_for(team.editor, locale="de-DE")

    # The month page.
    page.locator("html[lang='de']").wait_for(state="attached")
    month = in_german(timezone.localtime(wednesday, BERLIN), "F Y")
    page.locator(f"h1:has-text('{month}')").wait_for()
    assert "Alle Beiträge" in page.inner_text("nav.nav")

    # The new-post form, refused in German; nothing is planned.
    page.click("a.button-primary:has-text('Neuer Beitrag')")
    page.wait_for_selector("dialog[open] #slot-form")
    page.fill("#id_note_text", "   ")
    page.click("dialog button:has-text('Beitrag planen')")
    page.locator(
        "dialog >> text=Schreiben Sie die Notiz, aus der Scripe einen Beitrag machen soll."
    ).wait_for()
    page.locator("dialog >> text=Wählen Sie einen Tag im Kalender.").wait_for()
    page.locator("dialog .field-error:has-text('Wählen Sie ein Projekt.')").wait_for()
    assert PlannedSlot.objects.count() == 0

    # A day picked by its German name in the widget, at a German 24-hour time.
    page.fill("#id_note_text", "Drei Lehren aus unserem ersten Beirat.")
    page.select_option("#id_project", label="Lena Fischer")
    friday = wednesday.date() + timedelta(days=2)
    pick = friday if page.locator(f"[data-pick-date='{friday}']").count() else wednesday.date()
    german_day = in_german(pick, "l, j. F Y")  # "Freitag, 23. Oktober 2026"
    page.click(f"dialog [aria-label='{german_day}']")
    assert page.get_attribute(f"[data-pick-date='{pick}']", "aria-pressed") == "true"
    page.select_option("#id_time", "14:30")
    page.click("dialog button:has-text('Beitrag planen')")
    page.wait_for_selector("dialog[open]", state="detached")
    page.locator("#toasts >> text=Geplant für").wait_for()
    slot = PlannedSlot.objects.get()
    local = timezone.make_aware(timezone.datetime(pick.year, pick.month, pick.day, 14, 30), BERLIN)
    assert slot.scheduled_for == local  # stored in UTC: 13:30 or 12:30 by the season

    # Scripe writes it; the manager reviews it in German.
    generation_finish(generation_request(slot=slot).pk)
    manager = journey.page_for(team.manager, locale="de-DE")
    manager.click("nav >> text=Freigabe")
    manager.locator("#review-panel").wait_for()
    manager.locator("button:has-text('Freigeben und planen')").wait_for()
    manager.click("button:has-text('Freigeben und planen')")
    manager.locator("#toasts >> text=Freigegeben: in Scripe geplant.").wait_for()
    manager.locator("text=Nichts wartet auf Freigabe.").wait_for()

    # The editor who planned it is told, and emailed, in German.
    told = Notification.objects.get(user=team.editor, kind=NotificationKind.APPROVED)
    assert told.text.startswith("Freigegeben und geplant: Lena Fischer, ")
    email = notification_email(told)
    assert "Freigegeben und geplant" in email.subject
    assert "Wählen Sie, was Sie per E-Mail erhalten" in email.body
    assert "Keine E-Mails mehr über freigegebene Beiträge" in email.body

    # The post's trail, written by services and tasks that know no reader, reads in German.
    page.goto(f"{journey.url}/slots/{slot.public_id}/")
    trail = page.locator(f"#trail-{slot.public_id}")
    trail.locator("text=An Scripe gesendet.").wait_for()
    trail.locator("text=Entwurf bereit zur Freigabe.").wait_for()
    trail.locator("text=Freigegeben und in Scripe geplant.").wait_for()
    assert "Scripe" in trail.inner_text() and "Sent to Scripe" not in trail.inner_text()
