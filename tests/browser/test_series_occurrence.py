"""Editing one post of a series from the series' page, in Chromium: saving lands on the
post's page, as saving any post does (#24: it left the person on the form with a toast)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from calendar_app.models import SeriesOccurrence
from calendar_app.planning import series as series_rules


@pytest.mark.browser
def test_saving_an_occurrence_from_the_series_page_opens_the_post(browser, live_server, team):
    start = timezone.localtime(timezone.now(), team.workspace.zone).date() + timedelta(days=7)
    series = series_rules.series_create(
        user=team.editor,
        zone=team.workspace.zone,
        rule=series_rules.Rule(frequency="weekly", weekdays=(start.weekday(),), count=3),
        project=team.project,
        note_text="Weekly tip",
        note=None,
        language="en",
        day=start,
        clock=timezone.datetime(2000, 1, 1, 9, 0).time(),
    )
    second = SeriesOccurrence.objects.get(series=series, index=2).slot
    context = browser.new_context(viewport={"width": 1300, "height": 950})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", team.editor.username)
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/series/{series.public_id}/")
    page.locator(f"a[href='/series/occurrence/{second.public_id}/edit/']").click()
    page.get_by_role("heading", name="Edit post").wait_for()
    page.fill("#id_note_text", "This week's tip, reworded.")
    page.get_by_role("button", name="Save").click()

    page.wait_for_url(f"{live_server.url}/slots/{second.public_id}/")
    page.get_by_text("This post saved.").wait_for()
    assert "This week's tip, reworded." in page.inner_text("main")
    context.close()
    assert problems == []
