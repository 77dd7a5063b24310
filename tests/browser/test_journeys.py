"""The main journeys, driven in Chromium as a person would drive them."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from calendar_app.models import PlannedSlot, Project, SourceNote, Workspace
from calendar_app.pipeline.generation import generation_request
from scripe_integration.models import ScripeConnection
from tests.browser.conftest import next_wednesday
from tests.calendar_app.test_admin import grant
from tests.support import generation_finish

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
BERLIN = ZoneInfo("Europe/Berlin")


def plan(team, when, text="An idea for the week.", project="Lena Fischer") -> PlannedSlot:
    project = Project.objects.get(workspace=team.workspace, name=project)
    note = SourceNote.objects.create(workspace=team.workspace, text=text, author=team.editor)
    return PlannedSlot.objects.create(
        workspace=team.workspace,
        project=project,
        note=note,
        scheduled_for=when,
        created_by=team.editor,
    )


def local(day: date, hour: int, minute: int = 0):
    return timezone.make_aware(
        timezone.datetime(day.year, day.month, day.day, hour, minute), BERLIN
    )


def test_1_an_editor_plans_a_post_with_the_calendar_widget(journey, time_machine):
    wednesday = next_wednesday()
    time_machine.move_to(wednesday, tick=True)
    thursday = wednesday.date() + timedelta(days=1)
    page = journey.page_for(journey.team.editor)
    # The calendar opens on the current month; click the empty part of Thursday.
    page.click(f".day[data-date='{thursday}']", position={"x": 60, "y": 110})
    page.wait_for_selector("dialog[open] #slot-form")
    page.select_option("#id_project", label="Acme Analytics")
    page.fill("#id_note_text", "We doubled newsletter signups with one question at checkout.")
    # A look at next month and back (each a request of the widget's own, inside the form).
    title = page.inner_text("dialog .picker-title")
    page.click("dialog [aria-label='Next month']")
    page.locator(f"dialog .picker-title:not(:text-is('{title}'))").wait_for()
    page.click("dialog [aria-label='Previous month']")
    page.locator(f"dialog .picker-title:text-is('{title}')").wait_for()
    # Pick the day by clicking it in the widget: Friday if the widget shows it, else Thursday.
    friday = thursday + timedelta(days=1)
    pick = friday if page.locator(f"[data-pick-date='{friday}']").count() else thursday
    page.click(f"[data-pick-date='{pick}']")
    assert page.get_attribute(f"[data-pick-date='{pick}']", "aria-pressed") == "true"
    page.select_option("#id_time", "14:30")
    page.click("dialog button:has-text('Plan post')")
    page.wait_for_selector("dialog[open]", state="detached")
    card = page.locator(f".day[data-date='{pick}'] .slot-card")
    card.wait_for()
    assert "14:30" in card.inner_text() and "Acme Analytics" in card.inner_text()
    slot = PlannedSlot.objects.get()
    assert slot.scheduled_for == local(pick, 14, 30)


def test_2_generate_shows_queued_running_and_ready_without_a_reload(journey):
    when = timezone.now() + timedelta(days=2)
    slot = plan(journey.team, when)
    page = journey.page_for(journey.team.editor)
    page.goto(f"{journey.url}/calendar/day/{timezone.localtime(when, BERLIN):%Y-%m-%d}/")
    navigations = []
    page.on(
        "framenavigated", lambda frame: frame == page.main_frame and navigations.append(frame.url)
    )
    card = page.locator(f"#slot-{slot.public_id}")
    card.locator(".slot-open").click()
    page.click("dialog button:has-text('Generate')")
    card.locator(".badge:has-text('Queued'), .badge:has-text('Generating')").wait_for()
    card.locator("progress.slot-progress-bar").wait_for(timeout=20_000)
    assert "Generating" in card.inner_text()
    card.locator(".badge:has-text('Ready for review')").wait_for(timeout=30_000)
    card.locator(".slot-open").click()
    page.locator("dialog[open] .draft-text").wait_for()
    assert "An idea for the week." in page.inner_text("dialog .draft-text")
    assert navigations == []  # it all happened in place


@pytest.mark.sandbox(generation_seconds=(0.3, 0.6))
def test_3_a_failure_shows_its_reason_and_retry_brings_a_draft(journey):
    journey.sandbox.fail_next_jobs(1, "provider_error")
    when = timezone.now() + timedelta(days=2)
    slot = plan(journey.team, when)
    page = journey.page_for(journey.team.editor)
    page.goto(f"{journey.url}/calendar/day/{timezone.localtime(when, BERLIN):%Y-%m-%d}/")
    card = page.locator(f"#slot-{slot.public_id}")
    card.locator(".slot-open").click()
    page.click("dialog button:has-text('Generate')")
    card.locator(".badge:has-text('Failed')").wait_for(timeout=30_000)
    assert "AI provider failed" in card.inner_text()
    card.locator("button:has-text('Retry')").click()
    card.locator(".badge:has-text('Ready for review')").wait_for(timeout=30_000)
    assert slot.jobs.count() == 2


@pytest.mark.sandbox(generation_seconds=(0.3, 0.6))
def test_4_a_manager_edits_and_approves_and_the_editor_sees_it_scheduled(journey):
    when = timezone.now() + timedelta(days=3)
    slot = plan(journey.team, when, text="Lessons from our first advisory board.")
    job = generation_request(slot=slot)
    generation_finish(job.pk)
    slot.refresh_from_db()
    assert slot.status == "in_review"

    manager = journey.page_for(journey.team.manager)
    manager.click("nav >> text=Review")
    manager.locator("#review-panel").wait_for()
    edited = "Three lessons from our first advisory board. Edited in review."
    manager.fill("#draft-content", edited)
    assert manager.inner_text("[data-count]") == str(len(edited))
    assert manager.inner_text("[data-preview]") == edited
    manager.click("button:has-text('Approve and schedule')")
    manager.locator("#toasts >> text=Approved: scheduled in Scripe.").wait_for()
    manager.locator("text=Nothing waits for review.").wait_for()

    editor = journey.page_for(journey.team.editor)
    editor.goto(f"{journey.url}/calendar/day/{timezone.localtime(when, BERLIN):%Y-%m-%d}/")
    assert "Scheduled" in editor.locator(f"#slot-{slot.public_id} .badge").inner_text()
    with journey.sandbox.client() as scripe:
        post = scripe.get_post(slot.current_job.post_id)
    assert (post.status, post.content) == (
        "scheduled",
        "Three lessons from our first advisory board. Edited in review.",
    )


def test_5_an_admin_adds_and_verifies_a_key_that_stays_masked(journey):
    team = journey.team
    team.admin.is_superuser = True
    team.admin.save()
    workspace = Workspace.objects.create(name="Fresh Team")
    page = journey.page_for(team.admin)
    page.goto(f"{journey.url}/admin/calendar_app/workspace/{workspace.pk}/change/")
    page.fill("#id_scripe-0-new_key", journey.sandbox.key)
    page.fill("#id_scripe-0-base_url", journey.sandbox.base_url)
    page.click("input[name=_continue]")
    page.locator("text=scripe_sk_test_…0000 (test key)").wait_for()
    page.click("button:has-text('Verify key with Scripe')")
    page.locator(".messagelist >> text=Fresh Team: The key works").wait_for()
    assert "Valid" in page.content()
    assert journey.sandbox.key not in page.content()
    assert ScripeConnection.objects.get(workspace=workspace).key_state == "valid"


def test_5a_an_admin_is_told_next_to_the_field_that_the_server_may_not_call_an_address(
    journey, settings
):
    settings.SCRIPE_ALLOW_LOCAL_HOSTS = False  # as in production
    team = journey.team
    grant(team.admin, "view", "change", "add", "delete")  # staff, admin of Acme only
    page = journey.page_for(team.admin)
    page.goto(f"{journey.url}/admin/calendar_app/workspace/{team.workspace.pk}/change/")
    page.fill("#id_scripe-0-base_url", "https://169.254.169.254/v1")
    page.click("input[name=_continue]")
    page.locator(".field-base_url >> text=Use an https address on the public internet").wait_for()
    stored = ScripeConnection.objects.get(workspace=team.workspace)
    assert stored.base_url == journey.sandbox.base_url


def test_6_dragging_a_card_keeps_its_time_and_a_bad_drop_is_refused(journey, time_machine):
    wednesday = next_wednesday()
    time_machine.move_to(wednesday, tick=True)
    thursday = wednesday.date() + timedelta(days=1)
    slot = plan(journey.team, local(thursday, 11, 15))
    page = journey.page_for(journey.team.editor)
    # The month: a drop on a day keeps the time (on the week's hourly grid it sets the hour).
    page.goto(f"{journey.url}/calendar/{thursday.year}/{thursday.month}/")
    card = f"#slot-{slot.public_id}"
    friday = thursday + timedelta(days=1)
    page.drag_and_drop(card, f".day[data-date='{friday}']")
    page.locator(f".day[data-date='{friday}'] {card}").wait_for()
    assert "11:15" in page.inner_text(card)
    slot.refresh_from_db()
    assert slot.scheduled_for == local(friday, 11, 15)

    tuesday = thursday - timedelta(days=2)
    journey.allowed_statuses.add(409)  # the refused drop's answer
    page.drag_and_drop(card, f".day[data-date='{tuesday}']")
    page.locator("#toasts >> text=Cannot move it to").wait_for()
    page.locator(f".day[data-date='{friday}'] {card}").wait_for()
    slot.refresh_from_db()
    assert slot.scheduled_for == local(friday, 11, 15)


def test_7_bad_input_shows_errors_next_to_the_fields_and_keeps_the_text(journey, time_machine):
    wednesday = next_wednesday()
    time_machine.move_to(wednesday, tick=True)
    page = journey.page_for(journey.team.editor)
    page.click("a.button-primary:has-text('New post')")
    page.wait_for_selector("dialog[open] #slot-form")
    yesterday = wednesday.date() - timedelta(days=1)
    # The widget does not offer past days at all.
    assert page.locator(f"[data-pick-date='{yesterday}']").is_disabled()
    page.fill("#id_note_text", "   ")
    page.click("dialog button:has-text('Plan post')")
    page.locator("dialog >> text=Write the note Scripe should turn into a post.").wait_for()
    page.locator("dialog >> text=Pick a day in the calendar.").wait_for()
    page.locator("dialog .field-error:has-text('Choose a project.')").wait_for()

    page.fill("#id_note_text", "A thought worth keeping.")
    page.select_option("#id_project", label="Lena Fischer")
    page.click(f"[data-pick-date='{wednesday.date()}']")
    # Today's earliest times are greyed out: they are already past.
    assert page.locator("#id_time option[value='00:00']").is_disabled()
    page.select_option("#id_time", "23:45")
    page.fill("#id_note_text", "")
    page.click("dialog button:has-text('Plan post')")
    page.locator("dialog >> text=Write the note Scripe should turn into a post.").wait_for()
    assert page.input_value("#id_time") == "23:45"
    assert PlannedSlot.objects.count() == 0


@pytest.mark.sandbox(generation_seconds=(0.3, 0.6))
def test_8_a_manager_clears_the_queue_from_the_keyboard(journey):
    team = journey.team
    base = timezone.now() + timedelta(days=2)
    for i in range(3):
        slot = plan(team, base + timedelta(hours=i), text=f"Draft number {i}.")
        job = generation_request(slot=slot)
        generation_finish(job.pk)
    page = journey.page_for(team.manager)
    page.goto(f"{journey.url}/review/")
    for remaining in (3, 2, 1):
        page.locator(f"#review h1 >> text=({remaining} waiting)").wait_for()
        page.locator("#review-panel").click(
            position={"x": 5, "y": 5}
        )  # focus the page, not a field
        page.keyboard.press("a")
        page.locator(f"#review h1 >> text=({remaining} waiting)").wait_for(state="detached")
    page.locator("text=Nothing waits for review.").wait_for()
    statuses = set(PlannedSlot.objects.values_list("status", flat=True))
    assert statuses == {"scheduled"}


@pytest.mark.sandbox(generation_seconds=(0.3, 0.6))
def test_9_two_managers_on_one_draft_the_second_is_told_and_sees_the_truth(journey):
    team = journey.team
    slot = plan(team, timezone.now() + timedelta(days=3), text="Our hiring story.")
    generation_finish(generation_request(slot=slot).pk)
    max_page = journey.page_for(team.manager)
    ada_page = journey.page_for(team.admin)  # an admin reviews too
    for page in (max_page, ada_page):
        page.goto(f"{journey.url}/review/")
        page.locator("#review-panel").wait_for()

    max_page.click("button:has-text('Approve and schedule')")
    max_page.locator("#toasts >> text=Approved: scheduled in Scripe.").wait_for()

    journey.allowed_statuses.add(409)  # Ada's decision comes too late: refused, in words
    ada_page.fill("#changes-comment", "Shorter, please.")
    ada_page.click("button:has-text('Send back to Scripe')")
    ada_page.locator("#toasts >> text=/Max already approved it, at \\d\\d:\\d\\d/").wait_for()
    # Her page refreshes to the truth without a reload: nothing waits any more.
    ada_page.locator("text=Nothing waits for review.").wait_for()
    slot.refresh_from_db()
    assert slot.status == "scheduled"


@pytest.mark.sandbox(generation_seconds=(0.3, 0.6))
def test_10_bad_edits_in_review_are_shown_next_to_the_text_with_its_count(journey):
    team = journey.team
    slot = plan(team, timezone.now() + timedelta(days=3), text="Our hiring story.")
    generation_finish(generation_request(slot=slot).pk)
    page = journey.page_for(team.manager)
    page.goto(f"{journey.url}/review/")
    long = "word " * 640  # 3,200 characters
    page.fill("#draft-content", long)
    page.click("button:has-text('Approve and schedule')")
    page.locator("#draft-content-error >> text=Shorten it by 200 before approving.").wait_for()
    # What was typed is still there, counted, and shown in the preview.
    assert page.input_value("#draft-content") == long
    assert page.inner_text("[data-count]") == "3200"
    assert "over-limit" in page.get_attribute("[data-count]", "class")
    slot.refresh_from_db()
    assert slot.status == "in_review"


def test_11_a_card_its_viewer_may_not_move_is_not_draggable_and_says_why(journey, time_machine):
    wednesday = next_wednesday()
    time_machine.move_to(wednesday, tick=True)
    thursday = wednesday.date() + timedelta(days=1)
    slot = plan(journey.team, local(thursday, 11, 15))
    PlannedSlot.objects.filter(pk=slot.pk).update(status="scheduled")
    editor = journey.page_for(journey.team.editor)
    moves = []
    editor.on("request", lambda r: "/move/" in r.url and moves.append(r.url))
    card = editor.locator(f"#slot-{slot.public_id}")
    friday = thursday + timedelta(days=1)
    for view in (f"{thursday.year}/{thursday.month}", f"week/{thursday}"):
        editor.goto(f"{journey.url}/calendar/{view}/")
        # Moving it changes it in Scripe, a manager's decision: the editor cannot pick it up,
        # and the card says why on hover.
        assert card.get_attribute("draggable") is None
        why = "Only a manager can change scheduled posts."
        assert card.get_attribute("title") == why
        assert card.locator(".slot-open").get_attribute("title").endswith(f"\n{why}")
        editor.drag_and_drop(f"#slot-{slot.public_id} .slot-time", f"[data-date='{friday}']")
        card.wait_for()
    assert moves == [] and editor.locator(".toast").count() == 0
    assert PlannedSlot.objects.get(pk=slot.pk).scheduled_for == local(thursday, 11, 15)

    manager = journey.page_for(journey.team.manager)
    manager.goto(f"{journey.url}/calendar/{thursday.year}/{thursday.month}/")
    card = manager.locator(f"#slot-{slot.public_id}")
    assert card.get_attribute("draggable") == "true" and card.get_attribute("title") is None
