"""A review screen that cannot mislead (#17): the queue says what each draft is, the open draft
is announced and focusable, the menu's count stays current, a regenerated draft shows what
changed and why, and a workspace may forbid approving one's own changes."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from calendar_app.core.refusals import Refusal
from calendar_app.models import GenerationJob, Label, Membership, PlannedSlot, Role, SlotEvent
from calendar_app.planning.live import to_micros
from calendar_app.review import services as review
from tests.support import written_draft

HTMX = {"HX-Request": "true"}


def draft(team, *, days=2, title="A title", content="First line.\nSecond line.", **job):
    """A draft waiting for review, made without Scripe (what the pages read)."""
    slot = team.slot(timezone.now() + timedelta(days=days), status="in_review")
    GenerationJob.objects.create(
        slot=slot,
        idempotency_key=uuid.uuid4().hex,
        post_id=f"post_{uuid.uuid4().hex[:8]}",
        post_title=title,
        post_content=content,
        **job,
    )
    return slot


def regenerated(team, *, before: str, after: str, steering: str, by=None):
    """A draft in its second attempt: the first was sent back with `steering`."""
    slot = draft(team, content=before, is_current=False, attempt=1)
    GenerationJob.objects.create(
        slot=slot,
        idempotency_key=uuid.uuid4().hex,
        attempt=2,
        post_id="post_second",
        post_title="A title",
        post_content=after,
        steering=steering,
        requested_by=by,
    )
    return slot


# the queue's entries ---------------------------------------------------------------------------


def test_the_queue_shows_each_drafts_title_and_first_line(client, team):
    draft(team, title="Why we hire slowly", content="\n  We said no to 40 people.\nMore.")
    client.force_login(team.manager)
    html = client.get("/review/").content.decode()
    assert '<span class="review-item-title">Why we hire slowly</span>' in html
    assert '<span class="review-item-line">We said no to 40 people.</span>' in html


def test_a_long_first_line_is_cut_at_a_word(client, team):
    draft(team, content="word " * 60)
    client.force_login(team.manager)
    line = re.search(r'review-item-line">([^<]*)<', client.get("/review/").content.decode())
    assert line.group(1).endswith("word…") and len(line.group(1)) <= 91


def test_the_cached_entry_follows_an_edited_title(client, team):
    slot = draft(team, title="Old title")
    client.force_login(team.manager)
    assert "Old title</span>" in client.get("/review/").content.decode()
    slot.jobs.update(post_title="New title", post_content="New first line.")
    html = client.get("/review/").content.decode()
    assert '<span class="review-item-title">New title</span>' in html
    assert '<span class="review-item-line">New first line.</span>' in html
    assert "Old title" not in html


# the open draft --------------------------------------------------------------------------------


def test_the_open_draft_has_a_focusable_heading_and_an_announcement(client, team):
    slot = draft(team)
    client.force_login(team.manager)
    html = client.get("/review/").content.decode()
    assert '<h2 id="review-heading" tabindex="-1">' in html
    day = timezone.localtime(slot.scheduled_for, team.workspace.zone)
    assert f'data-announce="Now reviewing: Lena Fischer, {day.day} {day:%b}"' in html
    # The live region is outside the swapped fragment, so it survives every swap.
    assert html.index('id="review-announcer"') < html.index('<section id="review"')
    assert 'aria-live="polite"' in html


def test_the_decision_bar_is_sticky_by_class_not_inline_style(client, team):
    draft(team)
    client.force_login(team.manager)
    html = client.get("/review/").content.decode()
    assert 'class="form-actions decision-bar"' in html
    assert " style=" not in html  # the CSP allows no inline style
    # Approve sits in the same form as the preview, so the bar stays while either is read.
    form = html[
        html.index('<form class="review-edit"') : html.index("</form>", html.index("decision-bar"))
    ]
    assert "li-preview" in form and "Approve and schedule" in form


def test_a_decision_answers_with_the_menus_new_count(client, team, wired):
    first = written_draft(team, days=2)
    written_draft(team, days=3)
    client.force_login(team.manager)
    html = client.get("/review/").content.decode()
    assert 'data-review-count="2"' in html
    html = client.post(
        f"/review/{first.public_id}/reject/", {"reason": "No."}, headers=HTMX
    ).content.decode()
    oob = re.search(r'<span id="review-count"[^>]*>', html).group(0)
    assert 'data-review-count="1"' in oob and 'hx-swap-oob="true"' in oob


def test_a_filtered_queue_still_counts_every_draft_in_the_menu(client, team):
    draft(team)
    other = team.project.__class__.objects.create(
        workspace=team.workspace, scripe_id="proj_other", name="Other"
    )
    slot = team.slot(timezone.now() + timedelta(days=4), status="in_review", project=other)
    GenerationJob.objects.create(slot=slot, idempotency_key="x1", post_id="p1", post_content="Hi")
    client.force_login(team.manager)
    html = client.get(f"/review/?project={team.project.scripe_id}").content.decode()
    assert "(1 waiting)" in html and 'data-review-count="2"' in html


# the filter holds ------------------------------------------------------------------------------


def test_a_decision_keeps_the_filter_and_opens_the_next_draft_of_the_filtered_queue(client, team):
    label = Label.objects.create(workspace=team.workspace, name="Launch")
    first, outside, second = draft(team, days=2), draft(team, days=3), draft(team, days=4)
    for slot in (first, second):
        slot.labels.add(label)
    client.force_login(team.manager)
    html = client.get(f"/review/?label={label.public_id}").content.decode()
    # The page's own reject form: its address carries the filter (#24: it did not, and the
    # next draft came from the whole queue, outside the filter).
    reject = re.search(r'hx-post="(/review/[^"]*/reject/[^"]*)"', html).group(1)
    html = client.post(unescape(reject), {"reason": "Off topic."}, headers=HTMX).content.decode()
    assert f'id="review-panel" data-slot="{second.public_id}"' in html
    assert re.search(rf'value="{label.public_id}"\s+selected', html)
    entries = re.findall(r'href="(/review/\?slot=[^"]*)"', html)
    assert entries and all(f"label={label.public_id}" in unescape(e) for e in entries)
    assert str(outside.public_id) not in html
    # Without JavaScript the answer is a redirect to the same filtered queue.
    reject = re.search(r'action="(/review/[^"]*/reject/[^"]*)"', html).group(1)
    response = client.post(unescape(reject), {"reason": "Off topic."})
    assert response["Location"] == f"/review/?label={label.public_id}"
    outside.refresh_from_db()
    assert outside.status == "in_review"


def test_a_refused_decision_without_javascript_comes_back_to_the_filtered_queue(client, team):
    label = Label.objects.create(workspace=team.workspace, name="Launch")
    slot = draft(team, days=2)
    slot.labels.add(label)
    client.force_login(team.manager)
    response = client.post(
        f"/review/{slot.public_id}/reject/?label={label.public_id}", {"reason": ""}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/review/?label={label.public_id}&slot={slot.public_id}"
    slot.refresh_from_db()
    assert slot.status == "in_review"


# the live count --------------------------------------------------------------------------------


def live(client, **params):
    return client.get("/slots/live/", {"since": to_micros(timezone.now()), **params})


def test_the_live_answer_brings_the_review_count_only_when_it_moved(client, team):
    draft(team)
    client.force_login(team.manager)
    assert live(client, review="1").status_code == 204
    response = live(client, review="0")
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'<span id="review-count"[^>]*data-review-count="1"', html)


def test_the_live_count_costs_one_query_and_only_for_managers_who_send_it(
    client, team, django_assert_num_queries
):
    draft(team)
    client.force_login(team.manager)
    # session, user, memberships, profile, the slots written since: nothing to count
    with django_assert_num_queries(5):
        assert live(client).status_code == 204
    # ... and the drafts waiting for review, when the page shows the count
    with django_assert_num_queries(6):
        assert live(client, review="1").status_code == 204
    client.force_login(team.editor)
    with django_assert_num_queries(5):
        assert live(client, review="3").status_code == 204  # editors have no count to keep


# what changed since the previous version -------------------------------------------------------


def test_a_regenerated_draft_shows_a_word_diff_beside_the_comment_that_asked(client, team):
    regenerated(
        team,
        before="We hire <slowly> and carefully.",
        after="We hire carefully and <kindly>.",
        steering="Drop 'slowly', add kindness.",
    )
    client.force_login(team.manager)
    html = client.get("/review/").content.decode()
    section = html[html.index('class="draft-changes"') :]
    section = section[: section.index("</section>")]
    assert "What changed since attempt 1" in section
    assert "Drop &#x27;slowly&#x27;, add kindness." in section
    assert "<del>&lt;slowly&gt; </del>" in section or "<del>&lt;slowly&gt;</del>" in section
    assert "<ins>&lt;kindly&gt;.</ins>" in section
    assert "<slowly>" not in html and "<kindly>" not in html  # escaped everywhere


def test_a_first_draft_shows_no_diff(client, team):
    draft(team)
    client.force_login(team.manager)
    assert "draft-changes" not in client.get("/review/").content.decode()


def test_the_word_diff_keeps_whitespace_and_escapes():
    html = review.word_diff("a b\nc", "a <x>\nc")
    assert html == "a <del>b</del><ins>&lt;x&gt;</ins>\nc"


# no self-approval ------------------------------------------------------------------------------


@pytest.fixture
def strict(team):
    team.workspace.no_self_approval = True
    team.workspace.save(update_fields=["no_self_approval"])
    second = get_user_model().objects.create_user("mia", password="pw", first_name="Mia")
    Membership.objects.create(user=second, workspace=team.workspace, role=Role.MANAGER)
    team.second_manager = second
    return team


def approve(slot, user, **text):
    slot = PlannedSlot.objects.for_cards().select_related("workspace").get(pk=slot.pk)
    return review.slot_approve(slot=slot, user=user, **text)


def test_a_manager_cannot_approve_the_version_they_asked_for(client, strict, wired):
    team = strict
    slot = regenerated(team, before="Old.", after="New.", steering="Shorter.", by=team.manager)
    client.force_login(team.manager)
    response = client.post(f"/review/{slot.public_id}/approve/", headers=HTMX)
    assert response.status_code == 403
    said = json.loads(response["HX-Trigger"])["toast"]["message"]
    assert said.startswith("This workspace asks for a second pair of eyes: you requested")
    slot.refresh_from_db()
    assert slot.status == "in_review"
    # Shown next to the Approve button, which is off; the other decisions stay.
    html = client.get("/review/").content.decode()
    assert 'disabled aria-describedby="approve-refusal"' in html
    assert '<p class="approve-refusal" id="approve-refusal">This workspace asks' in html
    assert "Send back to Scripe" in html and ">Reject<" in html


def test_a_manager_cannot_approve_a_draft_they_edited(strict):
    team = strict
    slot = draft(team, title="T", content="Text.")
    review.draft_save(slot=slot, user=team.manager, title="T", content="Better text.")
    with pytest.raises(Refusal) as refused:
        approve(slot, team.manager)
    assert refused.value.status == 403 and "you edited this draft" in refused.value.message


def test_changing_the_text_while_approving_counts_as_an_edit(strict):
    slot = draft(strict, title="T", content="Text.")
    with pytest.raises(Refusal) as refused:
        approve(slot, strict.manager, title="T", content="Other text.")
    assert refused.value.status == 403 and "you changed the text" in refused.value.message


def test_the_same_text_with_the_browsers_line_endings_is_no_edit(strict, wired):
    slot = written_draft(strict)
    job = slot.current_job
    content = job.post_content.replace("\n", "\r\n")
    assert approve(slot, strict.manager, title=job.post_title, content=content).startswith(
        "Approved"
    )


def test_another_manager_may_approve_and_anyone_may_send_back_or_reject(strict, wired):
    team = strict
    slot = written_draft(team)
    review.draft_save(slot=slot, user=team.manager, title="T", content="Edited.")
    # The editor of the text may still reject or send back.
    assert review.self_approval_refusal(slot, slot.current_job, team.manager)
    assert approve(slot, team.second_manager) == "Approved: scheduled in Scripe."
    event = SlotEvent.objects.filter(slot=slot, status="scheduled").get()
    assert event.actor == team.second_manager


def test_without_the_option_a_manager_approves_their_own_edit(team, wired):
    slot = written_draft(team)
    review.draft_save(slot=slot, user=team.manager, title="T", content="Edited.")
    assert approve(slot, team.manager) == "Approved: scheduled in Scripe."


def test_reject_stays_allowed_for_the_one_who_edited(client, strict):
    slot = draft(strict)
    review.draft_save(slot=slot, user=strict.manager, title="T", content="Edited.")
    client.force_login(strict.manager)
    response = client.post(f"/review/{slot.public_id}/reject/", {"reason": "Off-brand."})
    assert response.status_code == 302
    slot.refresh_from_db()
    assert slot.status == "rejected"
