"""Cards in every state, and the one live request per page that keeps them current."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from calendar_app.models import GenerationJob


@pytest.fixture
def when():
    return timezone.now() + timedelta(days=2)


def with_job(team, when, status, **job_fields):
    slot = team.slot(when, status=status)
    GenerationJob.objects.create(slot=slot, idempotency_key=uuid.uuid4().hex, **job_fields)
    return slot


def card(slot) -> str:
    from calendar_app.models import PlannedSlot

    fresh = PlannedSlot.objects.for_cards().get(pk=slot.pk)
    return render_to_string("calendar_app/slot_card.html#slot-card", {"slot": fresh})


def test_a_draft_card_is_draggable_and_not_live(team, when):
    html = card(team.slot(when))
    assert 'draggable="true"' in html and "data-in-flight" not in html
    assert ">Draft<" in html


def test_a_queued_card_is_live_and_says_it_is_being_sent(team, when):
    html = card(with_job(team, when, "queued"))
    assert "data-in-flight" in html and 'draggable="true"' not in html
    assert "Sending to Scripe" in html


def test_a_generating_card_shows_progress_message_and_elapsed_time(team, when):
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
    assert "Writing the draft · 12 s" in html


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


def test_live_answers_with_out_of_band_cards_and_panels(client, team, when):
    slot = with_job(team, when, "generating", progress_message="Finding the angle")
    client.force_login(team.editor)
    response = client.get(f"/slots/live/?cards={slot.public_id}&panels={slot.public_id}")
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="slot-{slot.public_id}"' in html
    assert f'id="slot-status-{slot.public_id}"' in html
    assert html.count('hx-swap-oob="true"') == 2
    assert "Finding the angle" in html


def test_live_refreshes_list_rows_too(client, team, when):
    slot = with_job(team, when, "generating", progress_message="Writing the draft")
    client.force_login(team.editor)
    listing = client.get("/slots/").content.decode()
    assert f'id="slot-row-{slot.public_id}"' in listing and "data-in-flight" in listing
    html = client.get(f"/slots/live/?rows={slot.public_id}").content.decode()
    assert f'id="slot-row-{slot.public_id}"' in html and 'hx-swap-oob="true"' in html
    assert "Writing the draft" in html


def test_live_says_stop_when_nothing_asked_about_is_in_flight(client, team, when):
    slot = with_job(team, when, "in_review", finished=True)
    client.force_login(team.editor)
    response = client.get(f"/slots/live/?cards={slot.public_id}")
    assert response.status_code == 286
    assert "Ready for review" in response.content.decode()  # the last state still lands


def test_live_ignores_other_workspaces_slots(client, team, when):
    slot = with_job(team, when, "generating")
    client.force_login(team.outsider)
    response = client.get(f"/slots/live/?cards={slot.public_id}")
    assert str(slot.public_id) not in response.content.decode()
    assert response.status_code == 286


def test_live_costs_the_same_for_one_card_or_thirty(client, team, when, django_assert_num_queries):
    client.force_login(team.editor)
    slots = [with_job(team, when + timedelta(hours=i), "generating") for i in range(30)]
    one = f"/slots/live/?cards={slots[0].public_id}"
    many = "/slots/live/?cards=" + ",".join(str(s.public_id) for s in slots)
    # session, user, memberships, profile, slots, their current jobs
    with django_assert_num_queries(6):
        client.get(one)
    with django_assert_num_queries(6):
        html = client.get(many).content.decode()
    assert html.count('hx-swap-oob="true"') == 30


def test_live_needs_login(client):
    assert client.get("/slots/live/?cards=x").status_code == 302


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
