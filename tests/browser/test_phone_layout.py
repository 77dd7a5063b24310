"""On a phone (390 px) and a small tablet (700 px) every main page fits its width: the top
bar's links wrap, filters stack, tables and the calendar's grid scroll inside the page, and
the calendar's tools (the filters, Month/Week, New post) can all be reached."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

PAGES = (
    "/",
    "/calendar/week/{today}/",
    "/slots/",
    "/review/",
    "/insights/",
    "/projects/",
    "/queue/",
    "/labels/",
    "/settings/",
    "/notifications/",
)


@pytest.mark.parametrize("width", [390, 700])
def test_every_main_page_fits_a_narrow_screen(browser, live_server, team, width):
    now = datetime.now(UTC)
    for n in range(6):
        team.slot(now + timedelta(days=n % 3, hours=2 + n), status=["draft", "in_review"][n % 2])
    context = browser.new_context(viewport={"width": width, "height": 850})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", team.admin.username)
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    today = now.date().isoformat()
    for path in PAGES:
        page.goto(live_server.url + path.format(today=today))
        overflow = page.evaluate("document.documentElement.scrollWidth") - width
        assert overflow <= 0, f"{path} is {overflow} px wider than the screen"
    page.goto(live_server.url + "/")
    tools = {
        "Week": page.get_by_role("link", name="Week"),
        "New post": page.get_by_role("link", name="New post"),
        "Log out": page.get_by_role("button", name="Log out"),
    }
    for name, tool in tools.items():
        box = tool.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"{name} is cut off"
    context.close()
    assert problems == []
