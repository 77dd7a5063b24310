"""Journey 14 (#17): a manager approves three long drafts in a row. Each next draft opens at
its top with its heading focused and announced, the decision bar stays in view while the
draft is read, and the Review count in the menu goes down at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from calendar_app.models import GenerationJob, Label, PlannedSlot
from calendar_app.pipeline.generation import generation_request
from tests.browser.test_journeys import plan
from tests.support import generation_finish

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG = "\n\n".join(
    f"Paragraph {n}: what we learned from hiring slowly, and why it paid off for the team."
    for n in range(1, 25)
)


def long_draft(team, when) -> PlannedSlot:
    slot = plan(team, when, text="Why we hire slowly.")
    job = generation_request(slot=slot)
    generation_finish(job.pk)
    # Long enough to scroll past the fold, and within LinkedIn's 3,000 characters.
    GenerationJob.objects.filter(pk=job.pk).update(post_content=LONG)
    return PlannedSlot.objects.get(pk=slot.pk)


@pytest.mark.sandbox(generation_seconds=(0.3, 0.6))
def test_14_a_manager_approves_three_drafts_and_each_opens_at_its_top(journey):
    team = journey.team
    start = timezone.now() + timedelta(days=2)
    slots = [long_draft(team, start + timedelta(hours=i)) for i in range(4)]
    page = journey.page_for(team.manager)
    page.goto(f"{journey.url}/review/")
    assert page.get_attribute("#review-count", "data-review-count") == "4"

    for i in range(3):
        panel = page.locator("#review-panel")
        assert panel.get_attribute("data-slot") == str(slots[i].public_id)
        # Read to the middle of the draft: the decision bar stays in view.
        page.evaluate("window.scrollTo(0, document.body.scrollHeight / 2)")
        approve = page.get_by_role("button", name="Approve and schedule")
        box = approve.bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 950
        # Approve from the bottom of the page, where the old bug left the next draft.
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        approve.click()
        page.locator(f'#review-panel[data-slot="{slots[i + 1].public_id}"]').wait_for()
        # A locator, not wait_for_function: polling a string would need eval, which our
        # Content-Security-Policy refuses (as it should).
        page.locator("#review-heading:focus").wait_for()
        top = page.evaluate("document.getElementById('review-panel').getBoundingClientRect().top")
        heading = page.evaluate(
            "document.getElementById('review-heading').getBoundingClientRect().top"
        )
        assert 0 <= top < 100, f"draft {i + 2} opened {top}px from the top"
        assert 0 <= heading < 200
        local = timezone.localtime(slots[i + 1].scheduled_for, team.workspace.zone)
        said = page.inner_text("#review-announcer")
        assert said == f"Now reviewing: Lena Fischer, {local.day} {local:%b}"
        # The menu's count follows at once, without waiting for the live poll.
        assert page.get_attribute("#review-count", "data-review-count") == str(3 - i)
        assert PlannedSlot.objects.get(pk=slots[i].pk).status == "scheduled"


@pytest.mark.sandbox(generation_seconds=(0.3, 0.6))
def test_the_label_filter_holds_through_every_decision_and_link(journey):
    team = journey.team
    launch = Label.objects.create(workspace=team.workspace, name="Launch")
    start = timezone.now() + timedelta(days=2)

    def waiting(hours, project="Lena Fischer", labelled=True):
        slot = plan(team, start + timedelta(hours=hours), text="A launch idea.", project=project)
        generation_finish(generation_request(slot=slot).pk)
        if labelled:
            slot.labels.add(launch)
        return slot

    first = waiting(0)
    other_client = waiting(1, project="Acme Analytics", labelled=False)
    second, third = waiting(2), waiting(3)
    page = journey.page_for(team.manager)
    page.goto(f"{journey.url}/review/")
    page.select_option("#review-label", label="Launch")
    page.locator("#review h1 >> text=(3 waiting)").wait_for()

    def opens(slot, waiting):
        page.locator(f'#review-panel[data-slot="{slot.public_id}"]').wait_for()
        page.locator(f"#review h1 >> text=({waiting} waiting)").wait_for()
        assert page.input_value("#review-label") == str(launch.public_id)
        assert page.locator(f"[data-review-item][href*='{other_client.public_id}']").count() == 0

    opens(first, 3)
    # Approve: the next draft is the next one of the filtered queue, not the other client's.
    page.click("button:has-text('Approve and schedule')")
    page.locator("#toasts >> text=Approved: scheduled in Scripe.").wait_for()
    opens(second, 2)
    # An entry of the queue opens its draft and keeps the filter.
    page.click(f"[data-review-item][href*='{third.public_id}']")
    opens(third, 2)
    page.fill("#reject-reason", "Not for this launch.")
    page.click("button.button-danger:has-text('Reject')")
    opens(second, 1)
    page.fill("#changes-comment", "Shorter, please.")
    page.click("button:has-text('Send back to Scripe')")
    page.locator("text=Nothing waits for review with these filters.").wait_for()
    assert page.input_value("#review-label") == str(launch.public_id)
    assert PlannedSlot.objects.get(pk=other_client.pk).status == "in_review"
