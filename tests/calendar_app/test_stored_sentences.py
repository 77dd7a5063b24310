"""Sentences written for a reader not known yet (#30): the trail, a post's note and warning, a
failed attempt's, source's or document's reason, a key's problem. Each is stored as its
English message with its values apart (scripe_integration/sentences.py) and read in the
reader's language, with times in the reader's zone."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from calendar_app.models import PlannedSlot, Profile, SlotEvent
from calendar_app.pipeline.generation import generation_request, spend_cap_sentence
from calendar_app.planning.services import slot_move
from scripe_integration.contract import ScripeError
from scripe_integration.sentences import Said, shown, stored
from scripe_integration.services import connection_for, credential_problem
from tests.support import generation_finish

NOW = datetime(2026, 10, 15, 10, 0, tzinfo=UTC)
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


def reader(client, user, *, language: str, zone: str = ""):
    Profile.objects.update_or_create(user=user, defaults={"language": language, "time_zone": zone})
    client.force_login(user)
    return client


def test_a_sentence_keeps_its_english_words_and_its_values_apart():
    said = Said(gettext_noop("Moved to %(when)s."), when=datetime(2026, 10, 20, 7, 30, tzinfo=UTC))
    assert said == "Moved to Tue 20 Oct, 07:30."  # a str, for logs and callers that need text
    text, params = stored(said)
    assert text == "Moved to %(when)s."
    with translation.override("de"), timezone.override(BERLIN):
        assert shown(text, params) == "Verschoben auf Di, 20. Okt, 09:30."
        assert Said.restored(text, params).shown() == "Verschoben auf Di, 20. Okt, 09:30."
    # Someone's own words are not a message: kept and shown as written, "%" and all.
    assert stored("50% shorter, please") == ("50% shorter, please", None)
    assert shown("50% shorter, please", None) == "50% shorter, please"


def test_a_move_on_the_trail_reads_in_each_readers_language_and_zone(client, team):
    slot = team.slot(datetime(2026, 10, 20, 7, 30, tzinfo=UTC))
    slot_move(slot=slot, day=date(2026, 10, 22), zone=BERLIN, user=team.editor, clock=time(9, 30))
    [event] = SlotEvent.objects.filter(slot=slot)

    german = reader(client, team.manager, language="de").get(f"/slots/{slot.public_id}/")
    assert "Verschoben auf Do, 22. Okt, 09:30." in german.content.decode()
    # The same entry for someone in New York, in English: their words, their clock.
    english = reader(client, team.admin, language="en", zone="America/New_York")
    assert (
        "Moved to Thu 22 Oct, 03:30." in english.get(f"/slots/{slot.public_id}/").content.decode()
    )
    # The API reads it in English in UTC unless asked otherwise, as before.
    assert event.sentence == "Moved to Thu 22 Oct, 07:30."


def test_a_note_naming_who_unscheduled_it_is_german_on_the_card(client, team):
    slot = team.slot(datetime(2026, 10, 20, 7, 30, tzinfo=UTC), status="approving")
    slot.unscheduled_by("Max Weber")
    assert PlannedSlot.objects.get(pk=slot.pk).status_note_params == {"who": "Max Weber"}
    page = reader(client, team.editor, language="de").get("/calendar/2026/10/").content.decode()
    assert (
        "Von Max Weber aus der Planung genommen: geben Sie ihn erneut frei oder lehnen Sie ihn ab."
        in page
    )
    assert "Unscheduled by" not in page


def test_a_reviewers_own_words_in_a_note_stay_as_written(client, team):
    slot = team.slot(datetime(2026, 10, 20, 7, 30, tzinfo=UTC), status="approving")
    slot.unscheduled_by("Max")  # a note with values, then a person's words over it
    slot.request_changes("Kürzer, bitte: 50% weniger %(Füllwörter)s.")
    slot = PlannedSlot.objects.get(pk=slot.pk)
    assert slot.status_note_params is None
    assert slot.status_note_shown == "Kürzer, bitte: 50% weniger %(Füllwörter)s."


def test_a_spend_cap_failure_is_german_on_the_posts_page(
    client, team, sandbox_factory, monkeypatch
):
    from calendar_app.pipeline import dispatch

    sandbox = sandbox_factory(spend_cap=0)
    sandbox.wire(team.workspace)
    monkeypatch.setattr(dispatch, "enqueue", lambda ids: None)
    slot = team.slot(NOW + timedelta(days=3))
    generation_finish(generation_request(slot=slot).pk)
    assert PlannedSlot.objects.get(pk=slot.pk).status == "failed"

    page = reader(client, team.editor, language="de").get(f"/slots/{slot.public_id}/")
    text = page.content.decode()
    assert (
        "Das Tageslimit für Ausgaben dieses Workspace bei Scripe ist erreicht. Es wird um "
        "00:00 UTC zurückgesetzt; generieren Sie danach." in text
    )
    assert "spend cap" not in text
    # What Scripe said was spent goes into the stored sentence as values, read in German too.
    said = spend_cap_sentence(connection_for(team.workspace), spent=480, cap=500, countdown=False)
    with translation.override("de"):
        assert (
            Said.restored(*stored(said))
            .shown()
            .startswith(
                "Das Tageslimit für Ausgaben dieses Workspace bei Scripe ist erreicht (480 von 500 "
                "Cent ausgegeben). Es wird"
            )
        )


def test_a_missing_permission_named_by_scripe_is_german_in_the_banner(client, team, sandbox):
    sandbox.wire(team.workspace)
    connection = connection_for(team.workspace)
    error = ScripeError(
        code="scope_missing",
        message="Missing scope.",
        http_status=403,
        details={"required": ["posts:write"]},
    )
    connection.mark_invalid(code=error.code, message=credential_problem(connection, error))
    page = reader(client, team.admin, language="de").get("/calendar/2026/10/").content.decode()
    assert "Dem Schlüssel fehlt die Berechtigung posts:write." in page
    english = reader(client, team.admin, language="en").get("/calendar/2026/10/")
    assert "The key lacks the posts:write permission." in english.content.decode()
