"""Managers review drafts Scripe wrote (through the sandbox): edit, approve, request changes,
reject; editors see the outcome; every step lands in the activity trail."""

from __future__ import annotations

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from calendar_app.models import GenerationJob, PlannedSlot, SlotEvent
from tests.support import generation_finish, wait_for, written_draft

HTMX = {"HX-Request": "true"}
DISCONNECTED = "proj_01JSANDBOXPROJ000000000003"


def post_of(sandbox, slot):
    with sandbox.client() as scripe:
        return scripe.get_post(slot.current_job.post_id)


# the queue -------------------------------------------------------------------------------------


def test_the_queue_lists_drafts_oldest_deadline_first_with_a_count(client, team, wired):
    later = written_draft(team, days=5, text="Later post")
    sooner = written_draft(team, days=2, text="Sooner post")
    client.force_login(team.manager)
    html = client.get("/review/").content.decode()
    assert html.index(str(sooner.public_id)) < html.index(str(later.public_id))
    assert 'data-review-count="2"' in html and ">2</span>" in html
    assert "Sooner post" in html  # the first draft is open beside its source


def test_the_queue_filters_by_project(client, team, wired):
    written_draft(team, text="Kept")
    other = team.project.__class__.objects.create(
        workspace=team.workspace, scripe_id="proj_01JSANDBOXPROJ000000000002", name="Acme page"
    )
    written_draft(team, text="Filtered out", project=other)
    client.force_login(team.manager)
    html = client.get(f"/review/?project={team.project.scripe_id}").content.decode()
    assert "Kept" in html and "Filtered out" not in html


def test_editors_may_not_review_and_outsiders_see_nothing(client, team, wired):
    slot = written_draft(team)
    client.force_login(team.editor)
    assert client.get("/review/").status_code == 403
    for action in ("approve", "changes", "reject", "save", "new-time"):
        response = client.post(f"/review/{slot.public_id}/{action}/", {"comment": "x"})
        assert response.status_code == 403, action
    client.force_login(team.outsider)
    assert str(slot.public_id) not in client.get("/review/").content.decode()
    for action in ("approve", "changes", "reject", "save", "new-time"):
        assert client.post(f"/review/{slot.public_id}/{action}/").status_code == 404, action


def test_editors_have_no_review_link_and_no_extra_query(client, team):
    client.force_login(team.editor)
    assert 'href="/review/"' not in client.get("/").content.decode()


# approving -------------------------------------------------------------------------------------


def test_approve_schedules_the_edited_post_in_scripe(client, team, wired):
    slot = written_draft(team)
    client.force_login(team.manager)
    response = client.post(
        f"/review/{slot.public_id}/approve/",
        {"title": "Edited title", "content": "Edited by the manager."},
        headers=HTMX,
    )
    assert (
        json.loads(response["HX-Trigger"])["toast"]["message"] == "Approved: scheduled in Scripe."
    )
    slot.refresh_from_db()
    assert slot.status == "scheduled"
    post = post_of(wired, slot)
    assert (post.status, post.title, post.content) == (
        "scheduled",
        "Edited title",
        "Edited by the manager.",
    )
    assert abs((post.scheduled_at - slot.scheduled_for).total_seconds()) < 0.01


def test_approve_moves_on_to_the_next_draft(client, team, wired):
    first = written_draft(team, days=2, text="First")
    second = written_draft(team, days=3, text="Second")
    client.force_login(team.manager)
    html = client.post(f"/review/{first.public_id}/approve/", headers=HTMX).content.decode()
    assert html.lstrip().startswith('<section id="review"')
    assert f'id="review-panel" data-slot="{second.public_id}"' in html


def test_approve_after_the_time_passed_marks_it_missed_and_a_new_time_brings_it_back(
    client, team, wired, time_machine
):
    slot = written_draft(team, days=1)
    time_machine.move_to(slot.scheduled_for + timedelta(minutes=5))
    client.force_login(team.manager)
    client.post(f"/review/{slot.public_id}/approve/", headers=HTMX)
    slot.refresh_from_db()
    assert slot.status == "missed"
    assert wired.stats()["requests"].get("PATCH /v1/posts/{postId}") is None
    new_day = (slot.scheduled_for + timedelta(days=2)).date().isoformat()
    client.post(f"/review/{slot.public_id}/new-time/", {"date": new_day, "time": "10:00"})
    slot.refresh_from_db()
    assert slot.status == "in_review"
    local = timezone.localtime(slot.scheduled_for, ZoneInfo("Europe/Berlin"))
    assert (local.date().isoformat(), f"{local:%H:%M}") == (new_day, "10:00")


def test_a_lost_linkedin_connection_keeps_the_draft_in_review(client, team, wired):
    project = team.project.__class__.objects.create(
        workspace=team.workspace, scripe_id=DISCONNECTED, name="Jonas Weber"
    )
    slot = written_draft(team, project=project)
    client.force_login(team.manager)
    response = client.post(f"/review/{slot.public_id}/approve/", headers=HTMX)
    assert response.status_code == 409
    assert "LinkedIn connection is down" in response.content.decode()
    slot.refresh_from_db()
    assert slot.status == "in_review"


def test_a_refused_approval_leaves_the_slot_and_its_draft_exactly_as_they_were(client, team, wired):
    project = team.project.__class__.objects.create(
        workspace=team.workspace, scripe_id=DISCONNECTED, name="Jonas Weber"
    )
    slot = written_draft(team, project=project)
    job = GenerationJob.objects.get(slot=slot)
    before = (
        PlannedSlot.objects.filter(pk=slot.pk).values().get(),
        GenerationJob.objects.filter(pk=job.pk).values().get(),
        slot.events.count(),
    )
    client.force_login(team.manager)
    edits = {"title": "New title", "content": "Words Scripe never accepted."}
    assert client.post(f"/review/{slot.public_id}/approve/", edits, headers=HTMX).status_code == 409
    after = (
        PlannedSlot.objects.filter(pk=slot.pk).values().get(),
        GenerationJob.objects.filter(pk=job.pk).values().get(),
        slot.events.count(),
    )
    assert after == before


@pytest.mark.parametrize(
    ("edits", "message"),
    [
        ({"title": "T", "content": "  "}, "The post is empty. Write it, or request changes."),
        ({"title": "T", "content": "x" * 3001}, "Shorten it by 1 before approving."),
        ({"title": "T" * 501, "content": "Fine."}, "Shorten it by 1 character."),
        ({"title": "T", "content": "Nul\x00byte"}, "contains a NUL character"),
    ],
)
def test_bad_edits_are_refused_next_to_their_field_and_keep_what_was_typed(
    client, team, wired, edits, message
):
    slot = written_draft(team)
    stored = GenerationJob.objects.filter(slot=slot).values("post_title", "post_content").get()
    client.force_login(team.manager)
    html = client.post(f"/review/{slot.public_id}/approve/", edits, headers=HTMX).content.decode()
    assert message in html
    assert "field-error" in html
    if "\x00" not in edits["content"]:
        assert edits["content"][:50] in html  # the typed text is still in the box
    assert GenerationJob.objects.filter(slot=slot).values("post_title", "post_content").get() == (
        stored
    )
    assert PlannedSlot.objects.get(pk=slot.pk).status == "in_review"
    assert wired.stats()["requests"].get("PATCH /v1/posts/{postId}") is None


@pytest.mark.parametrize(
    ("first", "second", "said"),
    [
        ("approve", ("changes", {"comment": "Shorter."}), "Max already approved it, at "),
        (
            ("changes", {"comment": "Shorter."}),
            ("reject", {"reason": "No."}),
            "Max already asked for changes, at ",
        ),
        (("reject", {"reason": "Off-brand."}), "approve", "Max already rejected it, at "),
    ],
)
def test_a_manager_deciding_second_is_told_who_decided_first_and_when(
    client, team, wired, first, second, said
):
    slot = written_draft(team)

    def decide(action):
        name, data = (action, {}) if isinstance(action, str) else action
        return client.post(f"/review/{slot.public_id}/{name}/", data, headers=HTMX)

    client.force_login(team.manager)
    decide(first)
    client.force_login(team.admin)  # whose page still shows the draft in review
    response = decide(second)
    assert response.status_code == 409
    assert response.content.decode().startswith(said)
    events = json.loads(response["HX-Trigger"])
    assert events["toast"] == {"message": response.content.decode(), "kind": "error"}
    assert "slots-changed" in events  # the review panel reloads to the truth


def test_a_new_time_must_be_on_the_planning_grid(client, team, wired, time_machine):
    slot = written_draft(team, days=1)
    time_machine.move_to(slot.scheduled_for + timedelta(minutes=5))
    slot.mark_missed()
    client.force_login(team.manager)
    day = (slot.scheduled_for + timedelta(days=2)).date().isoformat()
    html = client.post(
        f"/review/{slot.public_id}/new-time/", {"date": day, "time": "09:31:17"}, headers=HTMX
    ).content.decode()
    assert "Pick a time on a 15-minute step, like 09:00 or 09:15." in html
    assert PlannedSlot.objects.get(pk=slot.pk).status == "missed"


def test_an_approval_whose_answer_is_lost_stays_scheduling_until_scripe_says(
    client, team, wired, settings, time_machine
):
    """A timeout does not mean Scripe did nothing: the slot is neither put back in review
    nor called scheduled until Scripe's copy of the post says which."""
    from calendar_app.review.services import approvals_sweep

    settings.SCRIPE_READ_TIMEOUT = 0.3
    slot = written_draft(team)
    # The PATCH goes through when its hang ends. The copy is read right after the timeout, and
    # must be read before that: a 1 s hang left a busy machine too little room, and the copy
    # read after it said scheduled.
    wired.fault("PATCH /v1/posts/{postId}", count=1, hangSeconds=3)
    client.force_login(team.manager)
    response = client.post(f"/review/{slot.public_id}/approve/", headers=HTMX)
    toast = json.loads(response["HX-Trigger"])["toast"]["message"]
    assert toast.startswith("Scripe did not answer in time")
    slot.refresh_from_db()
    assert slot.status == "approving"
    # Meanwhile nobody can decide otherwise on the calendar.
    refused = client.post(f"/review/{slot.public_id}/reject/", {"reason": "No."}, headers=HTMX)
    assert refused.status_code == 409
    # Scripe finishes the request it was sent.
    wait_for(lambda: post_of(wired, slot).status == "scheduled", 10, "the PATCH to land")
    time_machine.move_to(timezone.now() + timedelta(minutes=3))
    assert approvals_sweep() == 1
    slot.refresh_from_db()
    assert slot.status == "scheduled"
    assert post_of(wired, slot).status == "scheduled"


def test_a_save_from_an_older_version_is_refused_and_keeps_the_other_managers_text(
    client, team, wired
):
    slot = written_draft(team)
    seen = slot.current_job.text_version  # what both managers' pages show
    client.force_login(team.manager)
    first = {"title": "T", "content": "Max's words.", "version": seen}
    client.post(f"/review/{slot.public_id}/save/", first, headers=HTMX)
    client.force_login(team.admin)
    late = {"title": "T", "content": "Ada's words.", "version": seen}
    response = client.post(f"/review/{slot.public_id}/save/", late, headers=HTMX)
    assert response.status_code == 409
    assert response.content.decode().startswith("Max saved another version of this draft at ")
    assert "slots-changed" in json.loads(response["HX-Trigger"])
    assert GenerationJob.objects.get(slot=slot).post_content == "Max's words."
    # Approving what Ada saw is refused too, and Scripe hears nothing.
    response = client.post(f"/review/{slot.public_id}/approve/", late, headers=HTMX)
    assert response.status_code == 409
    assert wired.stats()["requests"].get("PATCH /v1/posts/{postId}") is None
    assert PlannedSlot.objects.get(pk=slot.pk).status == "in_review"


def test_an_interrupted_approval_is_settled_from_scripes_copy(client, team, wired, time_machine):
    from calendar_app.review.services import approvals_sweep

    scheduled, unscheduled = written_draft(team, days=3), written_draft(team, days=4)
    for slot in (scheduled, unscheduled):
        slot.begin_approval()  # as a web worker killed mid-approve leaves it
    with wired.client() as scripe:  # only the first reached Scripe before the worker died
        scripe.update_post(
            scheduled.current_job.post_id, content="Sent.", scheduled_for=scheduled.scheduled_for
        )
    assert approvals_sweep() == 0  # too early to call them interrupted
    time_machine.move_to(timezone.now() + timedelta(minutes=3))
    assert approvals_sweep() == 2
    scheduled.refresh_from_db()
    unscheduled.refresh_from_db()
    assert scheduled.status == "scheduled"
    assert scheduled.jobs.get(is_current=True).post_content == "Sent."
    assert (unscheduled.status, unscheduled.status_note) == (
        "in_review",
        "Scheduling in Scripe was interrupted; approve it again.",
    )


def test_request_changes_refuses_a_comment_that_scripe_could_not_take(client, team, wired):
    slot = written_draft(team, text="n" * 99_990)
    client.force_login(team.manager)
    html = client.post(
        f"/review/{slot.public_id}/changes/", {"comment": "Make it shorter."}, headers=HTMX
    ).content.decode()
    assert "characters over Scripe&#x27;s 100,000" in html
    assert PlannedSlot.objects.get(pk=slot.pk).status == "in_review"


def test_saving_a_draft_keeps_it_here_and_scripe_gets_it_with_the_approval(client, team, wired):
    slot = written_draft(team)
    written = post_of(wired, slot).content
    client.force_login(team.manager)
    client.post(f"/review/{slot.public_id}/save/", {"title": "T", "content": "New words."})
    job = GenerationJob.objects.get(slot=slot)
    assert (job.post_title, job.post_content) == ("T", "New words.")
    # Nothing is sent while the draft is being edited, so the two copies cannot race.
    assert post_of(wired, slot).content == written
    assert PlannedSlot.objects.get(pk=slot.pk).status == "in_review"
    client.post(f"/review/{slot.public_id}/approve/")
    assert post_of(wired, slot).content == "New words."


# changes and rejection -------------------------------------------------------------------------


def test_requesting_changes_generates_again_with_the_comment_and_keeps_the_old_draft(
    client, team, wired
):
    slot = written_draft(team, text="Our hiring story.")
    first = slot.current_job
    client.force_login(team.manager)
    client.post(f"/review/{slot.public_id}/changes/", {"comment": "Mention the interview loop."})
    slot.refresh_from_db()
    assert slot.status == "queued"
    second = GenerationJob.objects.get(slot=slot, is_current=True)
    assert second.attempt == 2 and second.steering == "Mention the interview loop."
    generation_finish(second.pk)
    second.refresh_from_db()
    assert "Mention the interview loop." in second.post_content
    first.refresh_from_db()
    assert first.post_content and "interview loop" not in first.post_content
    html = client.get(f"/review/?slot={slot.public_id}").content.decode()
    assert "Earlier drafts (1)" in html


def test_a_request_for_changes_needs_a_comment(client, team, wired):
    slot = written_draft(team)
    client.force_login(team.manager)
    response = client.post(f"/review/{slot.public_id}/changes/", {"comment": " "}, headers=HTMX)
    # The queue comes back with the message next to the comment box.
    assert response.status_code == 200
    assert 'id="changes-comment-error">Say what should change' in response.content.decode()
    assert PlannedSlot.objects.get(pk=slot.pk).status == "in_review"


def test_reject_with_a_reason_shows_on_the_editors_card(client, team, wired):
    slot = written_draft(team)
    client.force_login(team.manager)
    client.post(f"/review/{slot.public_id}/reject/", {"reason": "Off-brand tone."})
    slot.refresh_from_db()
    assert (slot.status, slot.status_note) == ("rejected", "Off-brand tone.")
    client.force_login(team.editor)
    berlin_day = timezone.localtime(slot.scheduled_for, ZoneInfo("Europe/Berlin"))
    html = client.get(f"/calendar/day/{berlin_day:%Y-%m-%d}/")
    assert "Off-brand tone." in html.content.decode()


# the trail -------------------------------------------------------------------------------------


def test_the_activity_trail_records_each_step_in_order(client, team, wired):
    slot = written_draft(team)
    client.force_login(team.editor)
    client.post(f"/slots/{slot.public_id}/comments/", {"text": "Can we add a photo?"})
    client.force_login(team.manager)
    client.post(f"/review/{slot.public_id}/changes/", {"comment": "Shorter please."})
    events = SlotEvent.objects.filter(slot=slot).exclude(status="generating")
    trail = [
        (e.kind, e.status, e.sentence, e.actor and e.actor.username)
        for e in events.select_related("actor")
    ]
    assert trail == [
        ("status", "queued", "Sent to Scripe.", None),
        ("status", "in_review", "Draft ready for review.", None),
        ("comment", "", "Can we add a photo?", "erin"),
        ("comment", "", "Shorter please.", "max"),
        ("status", "queued", "Changes requested: Shorter please.", "max"),
    ]
    html = client.get(f"/slots/{slot.public_id}/").content.decode()
    assert "“Can we add a photo?”" in html and "Erin" in html


def test_comments_need_text_and_membership(client, team, wired):
    slot = written_draft(team)
    client.force_login(team.editor)
    response = client.post(f"/slots/{slot.public_id}/comments/", {"text": ""}, headers=HTMX)
    assert "Write a comment first." in response.content.decode()
    assert not slot.events.filter(kind="comment").exists()
    client.force_login(team.outsider)
    assert client.post(f"/slots/{slot.public_id}/comments/", {"text": "hi"}).status_code == 404


def in_review(team, n: int) -> list[PlannedSlot]:
    """Drafts waiting for review, made without Scripe (only what the pages read)."""
    slots = []
    for i in range(n):
        slot = team.slot(timezone.now() + timedelta(days=2, hours=i), status="in_review")
        GenerationJob.objects.create(
            slot=slot, idempotency_key=f"q{slot.pk}", post_id=f"post_{slot.pk}", post_content="Hi."
        )
        SlotEvent.objects.create(slot=slot, kind="comment", actor=team.editor, text="Look.")
        slots.append(slot)
    return slots


def test_the_queue_costs_the_same_for_one_draft_or_twenty(client, team, django_assert_num_queries):
    in_review(team, 1)
    client.force_login(team.manager)
    # session, user, memberships with workspaces and keys, profile, the projects filter, the
    # queue's slots (what its list shows, with each draft's title and first line), the
    # selected draft with its project, note and workspace, its attempts (current and earlier
    # drafts), its trail, its live client review links, the labels filter (#15). The menu's
    # review count is the unfiltered queue's length: no query of its own.
    with django_assert_num_queries(11):
        client.get("/review/")
    in_review(team, 19)
    with django_assert_num_queries(11):
        html = client.get("/review/").content.decode()
    assert "(20 waiting)" in html
