"""axe-core over every page of the app (#30), in Chromium: no serious or critical violation.

One browser context per language (a test each) visits every page in turn (a page per test
would start a context, log in and inject axe thirty times); the violations of all pages are
collected and reported together, each with the page, the rule, its help and the first
offending elements, so one run shows everything there is to fix.

Each interface language the app offers (settings.LANGUAGES) gets its own run, with that
language chosen (the browser's Accept-Language, which the app follows by default).
"""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings as django_settings
from django.utils import timezone

from calendar_app.access import viewer_of
from calendar_app.ideas.services import idea_create
from calendar_app.models import Label, PlannedSlot
from calendar_app.outbound.services import endpoint_create
from calendar_app.planning import queue
from calendar_app.planning import series as series_rules
from calendar_app.review.guests import link_create
from calendar_app.sources.services import source_create_text
from tests.browser.test_journeys import plan
from tests.support import written_draft

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


# Every interface language the app offers (settings.LANGUAGES): each page is checked in each.
LANGUAGES = [code for code, _name in django_settings.LANGUAGES]

# WCAG 2.2 AA and axe's best practices; only what axe rates serious or critical fails.
FAILING = {"serious", "critical"}
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]

AXE = Axe()


def violations(page, where: str) -> list[str]:
    """What axe finds serious or critical on the page as it is now, one readable line each."""
    # Only violations come back: passes and incomplete checks would triple what is sent.
    options = {"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]}
    results = AXE.run(page, options=options)
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] not in FAILING:
            continue
        nodes = violation["nodes"]
        targets = ", ".join(" ".join(node["target"]) for node in nodes[:4])
        more = f" (+{len(nodes) - 4} more)" if len(nodes) > 4 else ""
        summary = nodes[0].get("failureSummary", "").replace("\n", " ")
        found.append(
            f"{where}: [{violation['impact']}] {violation['id']}: {violation['help']}\n"
            f"    at {targets}{more}\n    {summary}"
        )
    return found


def pages_of(team, slot: PlannedSlot, draft: PlannedSlot) -> list[tuple[str, str]]:
    """(name, path) of every page a signed-in manager sees, with something on each."""
    zone = team.workspace.zone
    day = timezone.localtime(slot.scheduled_for, zone).date()
    project = slot.project
    workspace = team.workspace
    Label.objects.create(workspace=workspace, name="Hiring", colour=2)
    slot.labels.add(Label.objects.get(workspace=workspace, name="Hiring"))
    queue.schedule_set(project=project, schedule=[(d, time(9)) for d in range(7)])
    for n in (1, 2):
        queue.queue_add(
            user=team.editor, project=project, note_text=f"Queued {n}.", note=None, language="en"
        )
    series = series_rules.series_create(
        user=team.editor,
        zone=zone,
        rule=series_rules.Rule(frequency="weekly", weekdays=(day.weekday(),), count=3),
        project=project,
        note_text="Weekly tip",
        note=None,
        language="en",
        day=day + timedelta(days=7),
        clock=time(10),
    )
    idea = idea_create(
        viewer=viewer_of(team.manager),
        workspace=workspace,
        text="Why we stopped posting daily",
        project=project,
    )
    source = source_create_text(
        user=team.manager, project=project, text="Notes from the hiring offsite.", name="Offsite"
    )
    endpoint, _secret = endpoint_create(
        workspace=workspace,
        user=team.admin,
        url="http://127.0.0.1:9/hook",
        events=["post.planned"],
    )
    return [
        ("month", "/"),
        ("week", f"/calendar/week/{day}/"),
        ("day", f"/calendar/day/{day}/"),
        ("list", "/slots/"),
        ("new post", "/slots/new/"),
        ("post", f"/slots/{slot.public_id}/"),
        ("review", f"/review/?slot={draft.public_id}"),
        ("queues", "/queue/"),
        ("queue", f"/queue/{project.scripe_id}/"),
        ("series", f"/series/{series.public_id}/"),
        ("ideas", "/ideas/"),
        ("idea", f"/ideas/{idea.public_id}/"),
        ("sources", "/sources/"),
        ("source", f"/sources/{source.public_id}/"),
        ("projects", "/projects/"),
        ("knowledge", f"/projects/{project.scripe_id}/knowledge/"),
        ("insights", "/insights/"),
        ("settings", "/settings/"),
        ("notifications", "/notifications/"),
        ("webhooks", "/webhooks/"),
        ("webhook", f"/webhooks/{endpoint.public_id}/"),
        ("labels", "/labels/"),
        ("team", f"/team/{workspace.public_id}/"),
        ("exports", "/exports/"),
        ("single sign-on", f"/settings/sso/{workspace.public_id}/"),
        ("two factors", "/accounts/2fa/"),
        ("email addresses", "/accounts/email/"),
        ("password", "/accounts/password/change/"),
    ]


# A test per language, so the languages' runs share the workers rather than one holding a
# worker for all of them.
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.sandbox(generation_seconds=(0.2, 0.4))
def test_every_page_has_no_serious_or_critical_axe_violation(journey, settings, language):
    settings.OUTGOING_WEBHOOKS_ALLOW_LOCAL = True  # the endpoint below is never called
    team = journey.team
    when = timezone.now() + timedelta(days=2)
    slot = plan(team, when.replace(hour=8, minute=0), text="Why we hire slowly.")
    draft = written_draft(team, days=3, text="Our hiring story.", project=slot.project)
    _link, token = link_create(slot=draft, user=team.manager, days=7)
    pages = pages_of(team, slot, draft)
    team.admin.is_staff = False  # the admin's own pages are Django's, not ours
    team.admin.save(update_fields=["is_staff"])

    found: list[str] = []
    headers = {"Accept-Language": language}
    guest = journey.page_for(None, extra_http_headers=headers)
    guest.goto(f"{journey.url}/accounts/login/")
    found += violations(guest, f"[{language}] log-in")
    guest.goto(f"{journey.url}/r/{token}/")
    found += violations(guest, f"[{language}] guest review")

    page = journey.page_for(team.admin, extra_http_headers=headers)
    for name, path in pages:
        page.goto(journey.url + path)
        page.wait_for_load_state("networkidle")  # lazy parts (the bell, the panels) are in
        found += violations(page, f"[{language}] {name} ({path})")
    # The new-post dialog over the month, where most planning happens.
    page.goto(journey.url + "/")
    page.locator("a[href*='/slots/new/']").first.click()
    page.wait_for_selector("dialog[open] #slot-form")
    found += violations(page, f"[{language}] new-post dialog")

    assert not found, f"{len(found)} axe violations:\n" + "\n".join(found)
