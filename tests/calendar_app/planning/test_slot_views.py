from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest

from calendar_app.models import PlannedSlot, SlotStatus, SourceNote

NOW = datetime(2026, 10, 15, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


def login(client, user):
    client.force_login(user)
    return client


def form(team, **overrides) -> dict:
    data = {
        "project": team.project.pk,
        "note_text": "Fewer meetings, more shipped posts.",
        "language": "en",
        "date": "2026-10-20",
        "time": "09:30",
    }
    data.update(overrides)
    return data


# creating --------------------------------------------------------------------------------------


def test_the_form_offers_the_day_that_was_clicked(client, team):
    html = login(client, team.editor).get("/slots/new/?date=2026-10-20").content.decode()
    assert 'name="date" value="2026-10-20"' in html
    assert 'data-pick-date="2026-10-20"' in html and 'aria-pressed="true"' in html
    assert "(Europe/Berlin)" in html


def test_past_days_are_disabled_in_the_picker(client, team):
    html = login(client, team.editor).get("/slots/new/").content.decode()
    assert 'data-pick-date="2026-10-14" aria-label="Wednesday 14 October 2026"\n' in html
    past = html.split('data-pick-date="2026-10-14"')[1].split(">")[0]
    future = html.split('data-pick-date="2026-10-16"')[1].split(">")[0]
    assert "disabled" in past and "disabled" not in future


def test_it_plans_a_post_at_the_local_time_stored_as_utc(client, team):
    response = login(client, team.editor).post("/slots/new/", form(team))
    assert response.status_code == 302
    slot = PlannedSlot.objects.get()
    assert slot.scheduled_for == datetime(2026, 10, 20, 7, 30, tzinfo=UTC)  # 09:30 CEST
    assert (slot.status, slot.project, slot.created_by) == ("draft", team.project, team.editor)
    assert slot.note.text == "Fewer meetings, more shipped posts."
    assert response["Location"] == "/calendar/2026/10/"


def test_htmx_saving_closes_the_dialog_and_refreshes_the_calendar(client, team):
    login(client, team.editor)
    sent = client.get("/slots/new/").context["form"]["request_key"].value()
    response = client.post(
        "/slots/new/", form(team, request_key=sent), headers={"HX-Request": "true"}
    )
    # A blank form with a new key replaces the used one: on the form's own page (no dialog
    # to close) the next Plan post is a new post, not an echo of this one.
    assert response.status_code == 200
    assert 'name="request_key"' in response.content.decode()
    assert sent not in response.content.decode()
    events = json.loads(response["HX-Trigger"])
    assert "slots-changed" in events
    assert "Tue 20 Oct, 09:30 (Europe/Berlin)" in events["toast"]["message"]


def test_the_same_form_sent_twice_plans_one_slot(client, team):
    """A double click on Plan post: the form's key makes the second request an echo."""
    login(client, team.editor)
    key = client.get("/slots/new/").context["form"]["request_key"].value()
    data = form(team, request_key=key)
    first = client.post("/slots/new/", data, headers={"HX-Request": "true"})
    second = client.post("/slots/new/", data, headers={"HX-Request": "true"})
    assert PlannedSlot.objects.count() == 1 and SourceNote.objects.count() == 1
    assert json.loads(first["HX-Trigger"]) == json.loads(second["HX-Trigger"])
    # A form shown again is a new request: it plans a second slot.
    again = client.get("/slots/new/").context["form"]["request_key"].value()
    assert again != key
    client.post("/slots/new/", form(team, request_key=again))
    assert PlannedSlot.objects.count() == 2


def test_a_key_that_no_form_made_is_ignored(client, team):
    login(client, team.editor)
    for _ in range(2):
        client.post("/slots/new/", form(team, request_key="x' OR 1=1"))
    assert PlannedSlot.objects.count() == 2


def test_an_existing_note_can_feed_another_slot(client, team):
    first = team.slot(datetime(2026, 10, 18, 9, 0, tzinfo=UTC))
    data = form(team, note_text="", existing_note=first.note.pk)
    login(client, team.editor).post("/slots/new/", data)
    assert PlannedSlot.objects.filter(note=first.note).count() == 2


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"note_text": "  "}, "note_text", "Write the note Scripe should turn into a post."),
        # A day in the past is about the day, not the time (#17).
        ({"date": "2026-10-14"}, "time", "14 Oct 2026 has passed. Pick today or a later day."),
        ({"date": "2026-10-15", "time": "12:00"}, "time", "at least 5 minutes from now"),
        ({"date": "2028-06-01"}, "time", "within the next 18 months"),
        ({"date": ""}, "date", "Pick a day in the calendar."),
        ({"time": "09:31"}, "time", "Select a valid choice"),
        ({"project": ""}, "project", "Choose a project."),
        # Scripe's limit, refused with the excess rather than cut without a word.
        ({"note_text": "x" * 100_001}, "note_text", "Shorten it by 1 character."),
        ({"note_text": "Nul\x00byte"}, "note_text", "Null characters are not allowed."),
        # 28 March 2027: Berlin's clocks jump from 02:00 to 03:00.
        ({"date": "2027-03-28", "time": "02:30"}, "time", "does not exist on 28 Mar 2027"),
        ({"date": "9999-12-31", "time": "23:45"}, "time", "Pick a day between 1970 and 2200."),
        ({"date": "0001-01-01", "time": "00:00"}, "time", "Pick a day between 1970 and 2200."),
    ],
)
def test_bad_input_is_shown_next_to_the_field_and_nothing_is_saved(
    client, team, overrides, field, message
):
    data = form(team, **overrides)
    response = login(client, team.editor).post("/slots/new/", data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert html.lstrip().startswith('<form id="slot-form"')
    assert PlannedSlot.objects.count() == 0
    if data["note_text"].strip() and "\x00" not in data["note_text"]:
        assert data["note_text"] in html  # what was typed is kept


def test_a_paused_project_is_refused_with_its_reason(client, team):
    response = login(client, team.editor).post("/slots/new/", form(team, project=team.paused.pk))
    assert "This project is paused in Scripe" in response.content.decode()
    assert PlannedSlot.objects.count() == 0


def test_another_workspaces_project_is_not_a_choice(client, team):
    data = form(team, project=team.foreign_project.pk)
    response = login(client, team.editor).post("/slots/new/", data)
    assert "Select a valid choice" in response.content.decode()
    assert PlannedSlot.objects.count() == 0


def test_a_time_skipped_by_dst_is_refused(client, team, time_machine):
    time_machine.move_to(datetime(2027, 3, 1, 10, 0, tzinfo=UTC), tick=False)
    # Berlin skips 02:00-03:00 on Sunday 28 March 2027.
    response = login(client, team.editor).post(
        "/slots/new/", form(team, date="2027-03-28", time="02:30")
    )
    assert "does not exist" in response.content.decode()
    assert PlannedSlot.objects.count() == 0


def test_planning_needs_login_and_refuses_put(client, team):
    assert client.get("/slots/new/").status_code == 302
    assert login(client, team.editor).put("/slots/new/").status_code == 405


# the slot page, editing ------------------------------------------------------------------------


def test_the_slot_page_shows_the_note_and_the_local_time(client, team):
    slot = team.slot(datetime(2026, 10, 20, 7, 30, tzinfo=UTC), text="The full note text.")
    html = login(client, team.editor).get(f"/slots/{slot.public_id}/").content.decode()
    assert "The full note text." in html
    assert "Tuesday 20 October 2026, 09:30" in html


def test_an_outsider_gets_404_for_a_slot(client, team):
    slot = team.slot(datetime(2026, 10, 20, 7, 30, tzinfo=UTC))
    login(client, team.outsider)
    assert client.get(f"/slots/{slot.public_id}/").status_code == 404
    assert client.post(f"/slots/{slot.public_id}/edit/", form(team)).status_code == 404
    assert client.post(f"/slots/{slot.public_id}/move/", {"date": "2026-10-22"}).status_code == 404
    assert client.post(f"/slots/{slot.public_id}/delete/").status_code == 404


def test_editing_a_draft_changes_it(client, team):
    slot = team.slot(datetime(2026, 10, 20, 7, 30, tzinfo=UTC))
    data = form(team, note_text="Rewritten idea", date="2026-10-22", time="14:00")
    response = login(client, team.editor).post(f"/slots/{slot.public_id}/edit/", data)
    assert response.status_code == 302
    slot.refresh_from_db()
    assert slot.note.text == "Rewritten idea"
    assert slot.scheduled_for == datetime(2026, 10, 22, 12, 0, tzinfo=UTC)


def test_editing_a_shared_note_leaves_the_other_slot_alone(client, team):
    slot = team.slot(datetime(2026, 10, 20, 7, 30, tzinfo=UTC), text="Shared")
    twin = PlannedSlot.objects.create(
        workspace=team.workspace,
        project=team.project,
        note=slot.note,
        scheduled_for=datetime(2026, 10, 25, 9, 0, tzinfo=UTC),
    )
    login(client, team.editor).post(f"/slots/{slot.public_id}/edit/", form(team, note_text="New"))
    twin.refresh_from_db()
    slot.refresh_from_db()
    assert (twin.note.text, slot.note.text) == ("Shared", "New")


def test_the_edit_form_starts_from_the_slot(client, team):
    slot = team.slot(datetime(2026, 10, 20, 7, 30, tzinfo=UTC), text="Original note")
    html = login(client, team.editor).get(f"/slots/{slot.public_id}/edit/").content.decode()
    assert "Original note" in html
    assert 'value="2026-10-20"' in html
    assert '<option value="09:30" selected>' in html


def test_a_slot_being_generated_says_why_it_cannot_be_edited(client, team):
    slot = team.slot(datetime(2026, 10, 20, 7, 30, tzinfo=UTC), status="generating")
    login(client, team.editor)
    htmx = {"HX-Request": "true"}
    response = client.get(f"/slots/{slot.public_id}/edit/", headers=htmx)
    assert response.status_code == 409
    assert response.content.decode() == "Scripe is writing this post; wait until it is done."
    assert "slots-changed" in json.loads(response["HX-Trigger"])  # the card is out of date
    response = client.post(f"/slots/{slot.public_id}/edit/", form(team), follow=True)
    assert "Scripe is writing this post" in response.content.decode()  # on the slot's page
    slot.refresh_from_db()
    assert slot.scheduled_for == datetime(2026, 10, 20, 7, 30, tzinfo=UTC)


# moving ----------------------------------------------------------------------------------------


def test_moving_keeps_the_local_time_of_day_across_dst(client, team):
    # 09:00 in Berlin on 20 October (CEST, UTC+2) moved to 30 October (CET, UTC+1).
    slot = team.slot(datetime(2026, 10, 20, 7, 0, tzinfo=UTC))
    response = login(client, team.editor).post(
        f"/slots/{slot.public_id}/move/", {"date": "2026-10-30"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 204
    slot.refresh_from_db()
    assert slot.scheduled_for == datetime(2026, 10, 30, 8, 0, tzinfo=UTC)
    assert "slots-changed" in json.loads(response["HX-Trigger"])


def test_the_move_and_plan_toasts_write_a_day_as_every_date_does(client, team):
    """A day reads "Tue 3 Nov", as every other date does, not "Tue 03 Nov" (#24)."""
    slot = team.slot(datetime(2026, 10, 20, 7, 0, tzinfo=UTC))
    htmx = {"HX-Request": "true"}
    response = login(client, team.editor).post(
        f"/slots/{slot.public_id}/move/", {"date": "2026-11-03"}, headers=htmx
    )
    assert json.loads(response["HX-Trigger"])["toast"]["message"] == "Moved to Tue 3 Nov, 09:00."
    response = client.post("/slots/new/", form(team, date="2026-11-05"), headers=htmx)
    toast = json.loads(response["HX-Trigger"])["toast"]["message"]
    assert toast.startswith("Planned for Thu 5 Nov, 09:30 (Europe/Berlin).")


def test_moving_to_a_past_day_is_refused_and_nothing_changes(client, team):
    slot = team.slot(datetime(2026, 10, 20, 7, 0, tzinfo=UTC))
    response = login(client, team.editor).post(
        f"/slots/{slot.public_id}/move/", {"date": "2026-10-10"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 409
    assert "Cannot move it to Sat 10 Oct" in response.content.decode()
    toast = json.loads(response["HX-Trigger"])["toast"]
    assert (toast["kind"], toast["message"]) == ("error", response.content.decode())
    slot.refresh_from_db()
    assert slot.scheduled_for == datetime(2026, 10, 20, 7, 0, tzinfo=UTC)


def test_an_editor_may_not_move_a_scheduled_post(client, team):
    # Moving it changes it in Scripe: a manager's decision (review/test_after_approval.py).
    slot = team.slot(datetime(2026, 10, 20, 7, 0, tzinfo=UTC), status="scheduled")
    response = login(client, team.editor).post(
        f"/slots/{slot.public_id}/move/", {"date": "2026-10-22"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 403
    slot.refresh_from_db()
    assert slot.scheduled_for == datetime(2026, 10, 20, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize("role", ["editor", "manager"])
@pytest.mark.parametrize("status", SlotStatus.values)
def test_a_card_is_draggable_exactly_when_its_viewer_may_move_it(client, team, status, role):
    """The card follows the move's own rule: a card offered for dragging is moved, one that
    is not says on hover the sentence the move would refuse with (#24: an editor could pick
    up a scheduled post and was refused on the drop)."""
    slot = team.slot(datetime(2026, 10, 20, 7, 0, tzinfo=UTC), status=status)
    login(client, getattr(team, role))
    html = client.get("/calendar/2026/10/").content.decode()
    tag = re.search(rf'<article[^>]*id="slot-{slot.public_id}"[^>]*>', html).group(0)
    title = re.search(r'title="([^"]*)"', tag)
    if status == "scheduled" and role == "manager":
        # Moved in Scripe first (review/test_after_approval.py): only the card here.
        assert 'draggable="true"' in tag and title is None
        return
    response = client.post(
        f"/slots/{slot.public_id}/move/", {"date": "2026-10-22"}, headers={"HX-Request": "true"}
    )
    if 'draggable="true"' in tag:
        assert title is None
        assert response.status_code == 204
    else:
        assert response.status_code in (403, 409)
        assert title is not None and unescape(title.group(1)) == response.content.decode()


def test_moving_a_post_in_review_is_refused(client, team):
    slot = team.slot(datetime(2026, 10, 20, 7, 0, tzinfo=UTC), status="in_review")
    response = login(client, team.editor).post(
        f"/slots/{slot.public_id}/move/", {"date": "2026-10-22"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 409
    assert "waiting for review" in response.content.decode()
    # The page shows a stale state: it is told to refresh.
    assert "slots-changed" in json.loads(response["HX-Trigger"])


def test_moving_needs_a_date_and_post(client, team):
    slot = team.slot(datetime(2026, 10, 20, 7, 0, tzinfo=UTC))
    login(client, team.editor)
    htmx = {"HX-Request": "true"}
    response = client.post(f"/slots/{slot.public_id}/move/", {"date": "soon"}, headers=htmx)
    assert (response.status_code, response.content) == (422, b"Drop the card on a day.")
    # Without JavaScript: back to the slot, with the sentence as a message.
    response = client.post(f"/slots/{slot.public_id}/move/", {"date": "soon"}, follow=True)
    assert "Drop the card on a day." in response.content.decode()
    assert client.get(f"/slots/{slot.public_id}/move/").status_code == 405


# deleting and undo -----------------------------------------------------------------------------


def test_delete_hides_the_slot_and_undo_brings_it_back(client, team):
    slot = team.slot(datetime(2026, 10, 20, 7, 0, tzinfo=UTC), text="Deleted then restored")
    login(client, team.editor)
    response = client.post(f"/slots/{slot.public_id}/delete/", headers={"HX-Request": "true"})
    assert "Undo" in response.content.decode()
    assert "Deleted then restored" not in client.get("/calendar/2026/10/").content.decode()
    assert client.post(f"/slots/{slot.public_id}/restore/").status_code == 302
    assert "Deleted then restored" in client.get("/calendar/2026/10/").content.decode()


def test_undo_is_refused_after_the_grace_period(client, team, time_machine):
    slot = team.slot(datetime(2026, 10, 20, 7, 0, tzinfo=UTC))
    login(client, team.editor).post(f"/slots/{slot.public_id}/delete/")
    time_machine.move_to(NOW + timedelta(seconds=30), tick=False)
    response = client.post(f"/slots/{slot.public_id}/restore/", headers={"HX-Request": "true"})
    assert (response.status_code, response.content) == (
        410,
        b"Too late to undo: the post stays deleted.",
    )
    assert PlannedSlot.objects.alive().count() == 0


def test_a_slot_in_review_cannot_be_deleted(client, team):
    slot = team.slot(datetime(2026, 10, 20, 7, 0, tzinfo=UTC), status="in_review")
    response = login(client, team.editor).post(
        f"/slots/{slot.public_id}/delete/", headers={"HX-Request": "true"}
    )
    assert response.status_code == 409
    assert PlannedSlot.objects.alive().count() == 1


# the list --------------------------------------------------------------------------------------


def test_the_list_filters_by_text_status_project_and_dates(client, team):
    team.slot(datetime(2026, 10, 20, 7, 0, tzinfo=UTC), text="About hiring engineers")
    team.slot(datetime(2026, 10, 21, 7, 0, tzinfo=UTC), text="About pricing", status="failed")
    team.slot(datetime(2026, 11, 21, 7, 0, tzinfo=UTC), text="About hiring designers")
    login(client, team.editor)

    def titles(query: str) -> list[str]:
        html = client.get(f"/slots/?{query}").content.decode()
        return [
            t for t in ("engineers", "pricing", "designers") if f"About {t}" in html or t in html
        ]

    assert titles("q=hiring") == ["engineers", "designers"]
    assert titles("status=failed") == ["pricing"]
    assert titles("date_from=2026-11-01") == ["designers"]
    assert titles("date_to=2026-10-20") == ["engineers"]
    assert titles(f"project={team.project.pk}&q=pricing") == ["pricing"]


def test_the_list_says_when_dates_are_reversed(client, team):
    html = login(client, team.editor).get("/slots/?date_from=2026-11-02&date_to=2026-11-01")
    assert "The end date is before the start date." in html.content.decode()


def test_the_list_paginates_with_constant_queries(client, team, django_assert_num_queries):
    login(client, team.editor)
    team.slot(datetime(2026, 10, 20, 7, 0, tzinfo=UTC))
    # session, user, memberships, profile, count, page of slots with their current jobs,
    # their labels (#15), projects and labels for the filter, labels for the bulk action bar
    with django_assert_num_queries(10):
        client.get("/slots/")
    for i in range(40):
        team.slot(datetime(2026, 10, 20, 8, 0, tzinfo=UTC) + timedelta(hours=i))
    with django_assert_num_queries(10):
        html = client.get("/slots/?page=2").content.decode()
    assert "Page 2 of 2" in html
    assert "41 posts" in html


def test_the_list_shows_only_the_users_workspaces(client, team):
    team.slot(datetime(2026, 10, 20, 7, 0, tzinfo=UTC), text="Acme internal")
    html = login(client, team.outsider).get("/slots/").content.decode()
    assert "Acme internal" not in html and "0 posts" in html


def test_the_list_htmx_variant_is_only_the_results(client, team):
    response = login(client, team.editor).get("/slots/?q=x", headers={"HX-Request": "true"})
    assert response.content.decode().lstrip().startswith('<section id="slot-results"')


def test_notes_are_not_duplicated_when_a_slot_is_created(client, team):
    login(client, team.editor).post("/slots/new/", form(team))
    assert SourceNote.objects.count() == 1


def test_the_slot_page_costs_the_same_with_a_long_trail(client, team, django_assert_num_queries):
    slot = team.slot(datetime(2026, 10, 20, 7, 0, tzinfo=UTC))
    login(client, team.editor)
    # session, user, memberships, profile, the slot with project, note and current job (one
    # row), its trail with the actors
    with django_assert_num_queries(6):
        client.get(f"/slots/{slot.public_id}/")
    for i in range(10):
        slot.events.create(kind="comment", actor=team.manager, text=f"Thought {i}.")
    with django_assert_num_queries(6):
        html = client.get(f"/slots/{slot.public_id}/").content.decode()
    assert "Thought 9." in html
