"""The insights page in Chromium with a realistic workspace (bench/insights.py builds it):
it renders without a console error (the Content-Security-Policy refuses inline script and
style, so a violation would show here), the charts are drawn, the gauge loads after the page,
and a screenshot lands in var/screenshots/insights.png (UPDATE_DOCS_SCREENSHOT=1: also
docs/insights.png, the README's)."""

from __future__ import annotations

import math
import os
import shutil
import sys
from datetime import UTC, datetime, timedelta

from tests.browser.conftest import SCREENSHOTS
from tests.support import ROOT

sys.path.insert(0, str(ROOT / "bench"))


def test_the_insights_page_as_a_manager_sees_it(browser, live_server, transactional_db):
    from django.contrib.auth import get_user_model
    from insights import add_todays_generations, build_workspace

    from calendar_app.models import Membership, PlannedSlot, SourceNote
    from calendar_app.pipeline.spend import spend_today, utc_midnight
    from scripe_integration.sandbox import DEFAULT_TEST_KEY
    from scripe_integration.services import connection_for

    now = datetime.now(UTC)
    workspace, _, _ = build_workspace("Demo Team", projects=6, weeks_back=12, plan="SOLO", now=now)
    # Enough of today's cap (SOLO: 100 generations) spent that the pace reaches it in about
    # two and a half hours: the forecast has something to say.
    elapsed = now - utc_midnight(now)
    target = math.ceil(100 * elapsed / (elapsed + timedelta(hours=2.5)))
    spent = spend_today([workspace], now=now)[workspace.pk].generations
    add_todays_generations(workspace, max(0, target - spent), now=now)
    # Two posts that will likely miss their time, for the lane.
    project = workspace.projects.first()
    for minutes, status in ((50, "draft"), (95, "in_review")):
        note = SourceNote.objects.create(workspace=workspace, text="Our Q3 hiring story.")
        PlannedSlot.objects.create(
            workspace=workspace,
            project=project,
            note=note,
            scheduled_for=now + timedelta(minutes=minutes),
            status=status,
        )
    connection = connection_for(workspace)
    connection.set_key(DEFAULT_TEST_KEY)  # no banner about a missing key
    connection.save()
    user = get_user_model().objects.create_user("ada", password="pw", first_name="Ada")
    Membership.objects.create(user=user, workspace=workspace, role="admin")

    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", "ada")
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/insights/")
    page.wait_for_selector(".spend-gauge meter")  # the top bar's gauge, loaded after the page
    assert page.locator("figure.chart svg").count() >= 6
    assert page.locator(".chart-posts rect").count() > 20
    assert "At this pace the cap is" in page.inner_text(".spend-sentence")

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "insights.png"
    page.screenshot(path=shot, full_page=True, caret="initial")
    context.close()
    if os.environ.get("UPDATE_DOCS_SCREENSHOT"):
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copy(shot, ROOT / "docs" / "insights.png")
    assert problems == []
