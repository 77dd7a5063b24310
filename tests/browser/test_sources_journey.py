"""From a recording to planned posts (#26), in Chromium: a file Scripe would refuse is
refused in the browser with a sentence; a recording is uploaded with its progress shown,
watched while Scripe transcribes it, three of its hooks become three posts in the queue, and
one is generated and approved; and, where the project has no posting schedule, hooks put on
the ideas board instead, one dropped on a day."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.utils import timezone

from calendar_app.models import Idea, PlannedSlot, Project, ScheduleTime, Source
from calendar_app.sources import samples
from tests.browser.conftest import SCREENSHOTS
from tests.calendar_app.sources.conftest import ready_source

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.sandbox(ingest_seconds=(5, 6), generation_seconds=(0.5, 1.0))
def test_a_recording_becomes_three_queued_posts_one_generated_and_approved(journey, tmp_path):
    project = Project.objects.get(workspace=journey.team.workspace, name="Lena Fischer")
    for weekday in range(7):
        ScheduleTime.objects.create(project=project, weekday=weekday, time=time(9))
    recording = samples.write_wav(tmp_path / "founder-memo.wav", seconds=4)
    wrong = tmp_path / "notes.zip"
    wrong.write_bytes(b"PK\x03\x04")

    page = journey.page_for(journey.team.editor)
    page.click("nav >> text=Sources")
    page.select_option("#upload-project", label="Lena Fischer")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    # A type Scripe refuses: the sentence next to the field, and nothing sent.
    page.set_input_files("#upload-file", str(wrong))
    page.locator("[data-file-error] >> text=Scripe takes audio or video").wait_for()
    page.screenshot(path=SCREENSHOTS / "sources-refused-type.png", caret="initial")
    page.click("#upload-form button[type=submit]")
    assert not Source.objects.exists()

    page.set_input_files("#upload-file", str(recording))
    assert page.locator("[data-file-error]").is_hidden()
    page.click("#upload-form button[type=submit]")
    page.wait_for_url(f"{journey.url}/sources/*/")
    source = Source.objects.get()
    assert source.name == "founder-memo.wav"

    # Live: Scripe transcribes with progress, then the page shows what it found.
    page.locator("#source-card .badge:has-text('Scripe is transcribing')").wait_for(timeout=30_000)
    page.locator("#source-card progress").wait_for()
    page.locator("h2:has-text('Topics and hooks')").wait_for(timeout=30_000)
    page.locator("[data-local-deleted]").wait_for()
    assert page.inner_text("[data-duration]") == "0:04"

    boxes = page.locator("#source-hooks input[type=checkbox]")
    hooks = [boxes.nth(i).get_attribute("value") for i in range(3)]
    for i in range(3):
        boxes.nth(i).check()
    page.click("button:has-text('Plan posts from the ticked hooks')")
    page.locator("#toasts >> text=3 posts planned at the next queue times.").wait_for()
    assert page.locator("#source-hooks .badge:has-text('Planned')").count() == 3
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "sources-hooks-planned.png", full_page=True, caret="initial")
    planned = PlannedSlot.objects.filter(hook_plan__source=source).order_by("scheduled_for")
    assert sorted(p.hook_plan.hook_id for p in planned) == sorted(hooks)

    page.goto(f"{journey.url}/queue/{project.scripe_id}/")
    for slot in planned:
        page.locator(f"#queue-times >> text={slot.note.text[:30]}").first.wait_for()

    # One of them is written by Scripe from the hook and the source, then approved.
    first = planned[0]
    page.goto(f"{journey.url}/slots/{first.public_id}/")
    page.click(".form-actions button:has-text('Generate')")
    page.locator(".badge:has-text('Ready for review')").first.wait_for(timeout=30_000)
    job = next(j for j in journey.sandbox.sandbox.state.jobs.values())
    assert "founder-memo.wav" in job.source_text

    manager = journey.page_for(journey.team.manager)
    manager.goto(f"{journey.url}/review/?slot={first.public_id}")
    manager.locator("#review-panel").wait_for()
    manager.click("button:has-text('Approve and schedule')")
    manager.locator("#toasts >> text=Approved: scheduled in Scripe.").wait_for()
    first.refresh_from_db()
    assert first.status == "scheduled"


def test_hooks_put_on_the_ideas_board_are_dropped_on_the_days_the_editor_chooses(journey):
    team = journey.team
    project = Project.objects.filter(workspace=team.workspace, status="ACTIVE").order_by("pk")[0]
    source = ready_source(team, project=project)
    page = journey.page_for(team.editor)

    # The board leads to the Sources page, where a ready source's hooks go onto the board.
    page.click("nav >> text=Ideas")
    page.click("a:has-text('Add a recording or document')")
    page.wait_for_url(f"{journey.url}/sources/")
    page.goto(f"{journey.url}/sources/{source.public_id}/")
    boxes = page.locator("#source-hooks input[type=checkbox]")
    boxes.nth(0).check()
    boxes.nth(2).check()
    # The project has no posting schedule: planning to the queue says so, and what to do.
    page.click("button:has-text('Plan posts from the ticked hooks')")
    page.locator("#source-hooks [role=alert]", has_text="has no posting schedule yet").wait_for()
    assert not PlannedSlot.objects.exists()
    assert boxes.nth(0).is_checked() and boxes.nth(2).is_checked()  # the ticks are kept
    page.click("button:has-text('Put the ticked hooks on the ideas board')")
    page.locator("#toasts >> text=2 hooks put on the ideas board").wait_for()
    assert page.locator("#source-hooks a:has-text('On the ideas board')").count() == 2
    assert not PlannedSlot.objects.exists()

    # On the board, each card names its source, with a link.
    page.goto(f"{journey.url}/ideas/")
    card = page.locator(".idea-column-new .idea-card", has_text="I used to plan posts")
    card.locator(".idea-source a:has-text('founder-memo.wav')").wait_for()
    idea = Idea.objects.get(source=source, hook_id="hk_a")

    # Dragged onto a day, it is that hook's post, steered by the source.
    day = timezone.localdate(timezone=team.workspace.zone) + timedelta(days=3)
    page.goto(f"{journey.url}/calendar/{day.year}/{day.month}/")
    dragged = f".ideas-panel #idea-{idea.public_id}"
    page.locator(dragged).wait_for()
    page.drag_and_drop(dragged, f".day[data-date='{day}']")
    page.locator("#toasts >> text=Planned for").wait_for()
    slot = PlannedSlot.objects.get(idea=idea)
    assert slot.hook_plan.source == source and slot.hook_plan.hook_id == "hk_a"
    assert timezone.localtime(slot.scheduled_for, team.workspace.zone).date() == day
    page.goto(f"{journey.url}/slots/{slot.public_id}/")
    page.locator(".slot-source a:has-text('founder-memo.wav')").wait_for()
