"""Cards in every state, and the one live request per page that keeps them current."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from calendar_app.access import viewer_of
from calendar_app.models import IN_FLIGHT_STATUSES, GenerationJob, PlannedSlot, Project
from calendar_app.planning.live import to_micros
from calendar_app.review import services as review
from calendar_app.templatetags.cards import move_refusal
from tests.support import written_draft


@pytest.fixture
def when():
    return timezone.now() + timedelta(days=2)


def with_job(team, when, status, **job_fields):
    slot = team.slot(when, status=status)
    GenerationJob.objects.create(slot=slot, idempotency_key=uuid.uuid4().hex, **job_fields)
    return slot


def card(slot, user=None) -> str:
    """The slot's card as `user` (by default an editor of its workspace) sees it."""
    from calendar_app.models import Membership, PlannedSlot, Role

    fresh = PlannedSlot.objects.for_cards().get(pk=slot.pk)
    if user is None:
        user = Membership.objects.filter(workspace=slot.workspace, role=Role.EDITOR)[0].user
    move_refusal(viewer_of(user), fresh)
    return render_to_string("calendar_app/slot_card.html#slot-card", {"slot": fresh})


def words(html: str) -> str:
    """The text a person reads, without the markup between its parts."""
    return re.sub(r"<[^>]+>", "", html)


def test_a_draft_card_is_draggable_and_not_live(team, when):
    html = card(team.slot(when))
    assert 'draggable="true"' in html and "data-in-flight" not in html
    assert ">Draft<" in html


def test_a_queued_card_is_live_and_says_it_is_being_sent(team, when):
    html = card(with_job(team, when, "queued"))
    assert "data-in-flight" in html and 'draggable="true"' not in html
    assert "Sending to Scripe" in html


def test_a_generating_card_shows_progress_message_and_elapsed_time(team, when, time_machine):
    # The clock stands still: the test's "12 s" and the card's are read at different moments.
    time_machine.move_to(timezone.now(), tick=False)
    html = card(
        with_job(
            team,
            when,
            "generating",
            scripe_job_id="job_1",
            scripe_status="RUNNING",
            progress=0.42,
            progress_message="Writing the draft",
            submitted_at=timezone.now() - timedelta(seconds=12),
        )
    )
    assert '<progress class="slot-progress-bar" max="100" value="42"' in html
    assert "Writing the draft · 12 s" in words(html)
    # the elapsed time carries the moment it counts from, so the page keeps it ticking
    started = int((timezone.now() - timedelta(seconds=12)).timestamp())
    assert f'data-elapsed-from="{started}">12 s<' in html


def test_a_retrying_card_counts_down(team, when):
    html = card(
        with_job(
            team,
            when,
            "queued",
            retry_reason="Scripe had a temporary problem.",
            next_poll_at=timezone.now() + timedelta(seconds=20),
        )
    )
    assert "Retrying in 20 s" in html


def test_a_stalled_card_says_so(team, when):
    html = card(with_job(team, when, "generating", scripe_job_id="job_1", stalled=True))
    assert "Taking longer than usual" in html


def test_a_failed_card_gives_the_reason_and_a_retry_button(team, when):
    slot = with_job(
        team, when, "failed", finished=True, error_message="Scripe's content policy flagged it."
    )
    html = card(slot)
    assert "Scripe&#x27;s content policy flagged it." in html
    assert f'hx-post="/slots/{slot.public_id}/generate/"' in html and ">Retry<" in html


@pytest.mark.parametrize(
    ("status", "label"),
    [("cancelled", "Cancelled"), ("in_review", "Ready for review"), ("scheduled", "Scheduled")],
)
def test_finished_cards_show_their_state(team, when, status, label):
    html = card(with_job(team, when, status, finished=True))
    assert f">{label}<" in html and "data-in-flight" not in html


# the live endpoint -----------------------------------------------------------------------------
# A page sends `since` (everything written before it is on the page) and its window; the answer
# is 204 when nothing changed, else the cards, rows and panel that changed and markers for
# slots that left the window.


def now_token() -> int:
    return to_micros(timezone.now())


def live(client, since, **params):
    query = {"since": since, **params}
    return client.get("/slots/live/", query)


def calendar_window(when, **extra) -> dict:
    day = timezone.localtime(when, ZoneInfo("Europe/Berlin")).date()
    return {"view": "calendar", "from": (day - timedelta(days=3)).isoformat(),
            "to": (day + timedelta(days=3)).isoformat(), **extra}  # fmt: skip


def test_a_card_cached_before_a_deploy_that_changes_its_words_is_not_served(
    team, when, tmp_path, monkeypatch
):
    """Status labels and a card's sentences are written in the models: a deploy that changes
    them must not serve cards a shared cache kept from the previous version."""
    from pathlib import Path

    from django.core.cache import cache
    from django.utils import translation

    from calendar_app.templatetags import cards

    slot = team.slot(when)
    cached = PlannedSlot.objects.for_cards().get(pk=slot.pk)
    cards.render_cards([cached], viewer=viewer_of(team.editor))
    key = cards.card_key(cached, timezone.get_current_timezone_name(), translation.get_language())
    # A deploy whose models package words a status differently (in whichever of its modules).
    package = Path(cards.models_module.__file__).parent
    for module in package.glob("*.py"):
        code = module.read_bytes().replace(b'"Ready for review"', b'"Waiting for review"')
        (tmp_path / module.name).write_bytes(code)
    assert (tmp_path / "slots.py").read_bytes() != (package / "slots.py").read_bytes()
    try:
        monkeypatch.setattr(cards.models_module, "__file__", str(tmp_path / "__init__.py"))
        cards._template_version.cache_clear()
        assert (
            cards.card_key(cached, timezone.get_current_timezone_name(), translation.get_language())
            != key
        )
    finally:
        monkeypatch.undo()
        cards._template_version.cache_clear()
    assert (
        cards.card_key(cached, timezone.get_current_timezone_name(), translation.get_language())
        == key
    )
    assert cache.get(key) is not None or key in cards._RECENT


@pytest.mark.parametrize("status", sorted(IN_FLIGHT_STATUSES))
def test_an_in_flight_card_read_without_its_attempt_renders(team, when, status):
    """A card renders whatever state its rows are in (#24, item 11): an in-flight slot read
    without an attempt, also when a page that had the attempt cached the card's markup for
    the same versions of the rows."""
    from calendar_app.templatetags import cards

    slot = with_job(team, when, status, submitted_at=timezone.now() - timedelta(seconds=12))
    viewer = viewer_of(team.editor)
    cached = PlannedSlot.objects.for_cards().get(pk=slot.pk)
    cards.render_cards([cached], viewer=viewer)  # cached, with it
    # Read without its attempt (as a second query that saw a later state would have).
    bare = PlannedSlot.objects.select_related("project", "note").get(pk=slot.pk)
    bare.current_jobs = []
    never = team.slot(when, status=status)
    fresh = PlannedSlot.objects.for_cards().get(pk=never.pk)
    cards.render_cards([bare, fresh], viewer=viewer)
    for html in (bare.card_html, fresh.card_html):
        assert "data-in-flight" in html and f'class="badge badge-{status}"' in html
        assert "12 s" not in words(html)


def test_a_card_whose_attempt_finishes_between_reads_shows_one_moment(client, team, when):
    """The race the load bench met (#24, item 11): the live poll reads the changed slots
    while the pipeline commits the end of their attempt. Here the pipeline's commit lands
    right after the slots are read, before the poll's next query (where the attempts used to
    be read, filtered on the slot's status as it was by then)."""
    from types import SimpleNamespace

    from django.db import connection

    from calendar_app.pipeline import generation

    slot = with_job(
        team,
        when,
        "generating",
        scripe_job_id="job_1",
        progress=0.5,
        progress_message="Writing the draft",
        submitted_at=timezone.now() - timedelta(seconds=12),
    )
    client.force_login(team.editor)
    since = now_token()
    PlannedSlot.objects.filter(pk=slot.pk).update(updated_at=timezone.now())
    # A first poll renders (and caches) the card as it is.
    assert "Writing the draft" in live(client, since, **calendar_window(when)).content.decode()

    state = {"read": False, "done": False}

    def finish_after_the_slots_are_read(execute, sql, params, many, context):
        if state["read"] and not state["done"]:
            state["done"] = True  # the pipeline's own queries pass straight through
            job = GenerationJob.objects.get(slot=slot)
            written = SimpleNamespace(title="Ready", content="The post.", status="draft")
            generation._written(job, written)
        result = execute(sql, params, many, context)
        state["read"] = state["read"] or '"note_head"' in sql  # the cards' query
        return result

    with connection.execute_wrapper(finish_after_the_slots_are_read):
        response = live(client, since, **calendar_window(when))
    assert state["done"], "the pipeline's commit did not land between the poll's queries"
    assert response.status_code == 200
    html = words(response.content.decode())
    assert "Generating" in html and "Writing the draft · 12 s" in html
    slot.refresh_from_db()
    assert slot.status == "in_review"  # the next poll shows it
    assert "Ready for review" in live(client, since, **calendar_window(when)).content.decode()


def test_live_with_nothing_changed_is_204_and_renders_nothing(client, team, when):
    with_job(team, when, "generating", progress_message="Finding the angle")
    client.force_login(team.editor)
    response = live(client, now_token(), **calendar_window(when))
    assert response.status_code == 204
    assert response.content == b""
    assert int(response["X-Live-Since"]) > 0


def test_live_with_nothing_changed_costs_the_same_for_one_card_or_a_hundred(
    client, team, when, django_assert_num_queries
):
    client.force_login(team.editor)
    with_job(team, when, "generating")
    since = now_token()
    # session, user, memberships, profile, the bell's unread count (every page's bell sends
    # the count it shows), the slots written since
    with django_assert_num_queries(6):
        assert live(client, since, **calendar_window(when), bell="0").status_code == 204
    for i in range(99):
        with_job(team, when + timedelta(minutes=15 * i), "generating")
    since = now_token()
    with django_assert_num_queries(6):
        assert live(client, since, **calendar_window(when), bell="0").status_code == 204


def test_a_managers_live_poll_adds_one_count_for_the_review_link(
    client, team, when, django_assert_num_queries
):
    client.force_login(team.manager)
    with_job(team, when, "in_review")
    since = now_token()
    # session, user, memberships, profile, the bell's unread count, the drafts waiting for
    # review (the page sends the count its Review link shows), the slots written since
    with django_assert_num_queries(7):
        response = live(client, since, **calendar_window(when), bell="0", review="1")
        assert response.status_code == 204
    with django_assert_num_queries(7):
        response = live(client, since, **calendar_window(when), bell="0", review="0")
    assert response.status_code == 200 and 'data-review-count="1"' in response.content.decode()


def test_live_with_changes_costs_the_same_for_one_card_or_thirty(
    client, team, when, django_assert_num_queries
):
    client.force_login(team.editor)
    slots = [with_job(team, when + timedelta(hours=i), "generating") for i in range(30)]
    since = now_token()
    PlannedSlot.objects.filter(pk=slots[0].pk).update(updated_at=timezone.now())
    # session, user, memberships, profile, the bell's unread count, the slots written since,
    # those in the window with their current jobs (one query: one moment, #24), and their
    # labels (#15)
    with django_assert_num_queries(8):
        html = live(client, since, **calendar_window(when), bell="0").content.decode()
    assert html.count('class="slot-card') == 1
    PlannedSlot.objects.filter(pk__in=[s.pk for s in slots]).update(updated_at=timezone.now())
    with django_assert_num_queries(8):
        html = live(client, since, **calendar_window(when), bell="0").content.decode()
    assert html.count('class="slot-card') == 30


def test_live_shows_a_change_made_by_someone_else(client, team, when, wired):
    slot = written_draft(team)
    client.force_login(team.editor)
    since = now_token()
    review.slot_reject(slot=slot, user=team.manager, reason="Not our voice.")
    response = live(client, since, **calendar_window(slot.scheduled_for))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="slot-{slot.public_id}"' in html
    assert ">Rejected<" in html and "Not our voice." in html


def test_live_shows_progress_written_by_the_pipeline(client, team, when):
    slot = with_job(team, when, "generating", progress_message="Finding the angle")
    client.force_login(team.editor)
    since = now_token()
    # The pipeline's contract: saving an attempt moves the slot's updated_at.
    slot.jobs.update(progress=0.5, progress_message="Writing the draft")
    PlannedSlot.objects.filter(pk=slot.pk).update(updated_at=timezone.now())
    html = live(client, since, **calendar_window(when)).content.decode()
    assert "Writing the draft" in html and 'value="50"' in html


def test_live_shows_a_new_slot_planned_by_someone_else(client, team, when):
    client.force_login(team.editor)
    since = now_token()
    slot = team.slot(when, text="Planned in another tab")
    html = live(client, since, **calendar_window(when)).content.decode()
    assert f'id="slot-{slot.public_id}"' in html and "Planned in another tab" in html


def test_live_says_a_deleted_slot_is_gone(client, team, when):
    slot = team.slot(when)
    client.force_login(team.editor)
    since = now_token()
    slot.soft_delete()
    html = live(client, since, **calendar_window(when)).content.decode()
    assert f'data-live-gone="{slot.public_id}"' in html
    assert 'class="slot-card' not in html


def test_live_says_a_slot_moved_out_of_the_window_is_gone(client, team, when):
    slot = team.slot(when)
    client.force_login(team.editor)
    since = now_token()
    slot.reschedule(when + timedelta(days=30))
    html = live(client, since, **calendar_window(when)).content.decode()
    assert f'data-live-gone="{slot.public_id}"' in html
    assert 'class="slot-card' not in html


def test_live_leaves_out_slots_of_another_project_when_the_page_shows_one(client, team, when):
    other = Project.objects.create(workspace=team.workspace, scripe_id="proj_other", name="O")
    slot = team.slot(when, project=other)
    client.force_login(team.editor)
    since = now_token()
    slot.reschedule(when + timedelta(hours=1))
    window = calendar_window(when, project=team.project.scripe_id)
    html = live(client, since, **window).content.decode()
    assert 'class="slot-card' not in html and f'data-live-gone="{slot.public_id}"' in html


def test_live_refreshes_list_rows_in_the_lists_filter(client, team, when):
    slot = with_job(team, when, "generating", progress_message="Writing the draft")
    client.force_login(team.editor)
    listing = client.get("/slots/").content.decode()
    assert f'id="row-{slot.public_id}"' in listing and "data-in-flight" in listing
    assert 'data-live-view="list"' in listing
    since = now_token()
    PlannedSlot.objects.filter(pk=slot.pk).update(updated_at=timezone.now())
    html = live(client, since, view="list", status="generating").content.decode()
    assert f'id="row-{slot.public_id}"' in html and "Writing the draft" in html
    html = live(client, since, view="list", status="failed").content.decode()
    assert f'data-live-gone="{slot.public_id}"' in html and "<tr" not in html


def test_live_refreshes_an_open_panel(client, team, when):
    slot = with_job(team, when, "generating", progress_message="Finding the angle")
    client.force_login(team.editor)
    since = now_token()
    PlannedSlot.objects.filter(pk=slot.pk).update(updated_at=timezone.now())
    html = live(client, since, panel=str(slot.public_id)).content.decode()
    assert f'id="slot-status-{slot.public_id}"' in html and "Finding the angle" in html
    assert "slot-card" not in html  # no window named: only the panel


def test_live_brings_the_open_panels_activity_with_it(client, team, when):
    """QA: after Generate on a post's own page, its Activity said "Nothing yet." until a
    reload; the trail comes with the panel, with the slot's version to compare."""
    from calendar_app.notifications.trail import Kind, record

    slot = team.slot(when)
    client.force_login(team.editor)
    page = client.get(f"/slots/{slot.public_id}/").content.decode()
    assert f'id="trail-{slot.public_id}"' in page and "Nothing yet." in page
    since = now_token()
    PlannedSlot.objects.filter(pk=slot.pk).update(status="queued", updated_at=timezone.now())
    slot.refresh_from_db()
    record(slot, kind=Kind.STATUS, actor=team.editor, text="Sent to Scripe.")
    html = live(client, since, panel=str(slot.public_id)).content.decode()
    trail = html[html.index(f'<ol class="trail" id="trail-{slot.public_id}"') :]
    assert f'data-version="{to_micros(slot.updated_at)}"' in trail.split(">", 1)[0]
    assert "Sent to Scripe." in trail and "Nothing yet." not in trail


def test_live_rechecks_a_card_whose_change_may_be_undone(client, team, when):
    slot = with_job(team, when, "approving", finished=True)
    seen = to_micros(PlannedSlot.objects.get(pk=slot.pk).updated_at)
    client.force_login(team.editor)
    since = now_token()
    check = f"{slot.public_id}.{seen}"
    assert live(client, since, check=check, **calendar_window(when)).status_code == 204
    # A refused approval puts the row back exactly, updated_at included.
    PlannedSlot.objects.filter(pk=slot.pk).update(
        status="in_review", updated_at=timezone.now() - timedelta(hours=1)
    )
    html = live(client, since, check=check, **calendar_window(when)).content.decode()
    assert f'id="slot-{slot.public_id}"' in html and ">Ready for review<" in html


def test_live_never_shows_another_workspaces_changes(client, team, when):
    slot = with_job(team, when, "generating")
    client.force_login(team.outsider)
    since = now_token()
    PlannedSlot.objects.filter(pk=slot.pk).update(updated_at=timezone.now())
    response = live(client, since, panel=str(slot.public_id), **calendar_window(when))
    assert response.status_code == 204


def test_live_without_a_since_starts_from_now(client, team):
    client.force_login(team.editor)
    response = client.get("/slots/live/")
    assert response.status_code == 204 and response["X-Live-Since"].isdigit()


def test_live_ignores_a_window_that_makes_no_sense(client, team, when):
    team.slot(when)
    client.force_login(team.editor)
    since = to_micros(timezone.now() - timedelta(minutes=1))
    for window in [
        {"view": "calendar", "from": "2026-01-01", "to": "2027-01-01"},
        {"view": "calendar", "from": "nonsense"},
        {"view": "list", "date_from": "2026-13-01"},
    ]:
        response = live(client, since, **window)
        assert response.status_code == 200 and "slot-card" not in response.content.decode()


def test_pages_say_what_they_show(client, team, when):
    client.force_login(team.editor)
    day = timezone.localtime(when, ZoneInfo("Europe/Berlin")).date()
    month = client.get(f"/calendar/{day.year}/{day.month}/").content.decode()
    assert 'data-live-view="calendar"' in month and "data-live-since=" in month
    day_page = client.get(f"/calendar/day/{day.isoformat()}/").content.decode()
    assert f"from={day.isoformat()}&amp;to={day.isoformat()}" in day_page


def test_live_needs_login(client):
    assert client.get("/slots/live/?since=1").status_code == 302


# generate and cancel: who may -----------------------------------------------------------------


def test_an_outsider_cannot_generate_or_cancel(client, team, when):
    slot = team.slot(when)
    client.force_login(team.outsider)
    assert client.post(f"/slots/{slot.public_id}/generate/").status_code == 404
    assert client.post(f"/slots/{slot.public_id}/cancel/").status_code == 404


def test_generate_needs_post(client, team, when):
    slot = team.slot(when)
    client.force_login(team.editor)
    assert client.get(f"/slots/{slot.public_id}/generate/").status_code == 405


def test_a_slot_in_review_cannot_be_generated_again_directly(client, team, when):
    slot = with_job(team, when, "in_review", finished=True)
    from scripe_integration.services import connection_for

    connection = connection_for(team.workspace)
    connection.set_key("scripe_sk_test_abcdefgh12345678")
    connection.save()
    client.force_login(team.editor)
    response = client.post(f"/slots/{slot.public_id}/generate/", headers={"HX-Request": "true"})
    assert response.status_code == 409
    assert "waiting for review" in response.content.decode()


def test_generating_without_a_key_says_an_admin_must_fix_it(client, team, when):
    slot = team.slot(when)
    client.force_login(team.editor)
    response = client.post(f"/slots/{slot.public_id}/generate/", follow=True)
    assert "Scripe key is missing or invalid" in response.content.decode()
    slot.refresh_from_db()
    assert slot.status == "draft"


def test_a_page_tells_its_live_updates_how_often_to_ask(client, team, settings):
    settings.LIVE_HEARTBEAT_SECONDS = 45
    client.force_login(team.editor)
    html = client.get("/").content.decode()
    assert 'data-live-ms="2000"' in html and 'data-heartbeat-ms="45000"' in html
