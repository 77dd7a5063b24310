"""On a phone (390 px) and a small tablet (700 px) every main page fits its width: the top
bar's links wrap, filters stack, All posts shows each post as a block of lines and the month
as a list of days, with nothing cut; other tables and the week's grid scroll inside the page
(the week says so), and the calendar's tools (the filters, Month/Week, New post) can all be
reached."""

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
    "/ideas/",
    "/sources/",
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
    page.fill("#id_login", team.admin.username)
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    today = now.date().isoformat()
    for path in PAGES:
        page.goto(live_server.url + path.format(today=today))
        overflow = page.evaluate("document.documentElement.scrollWidth") - width
        assert overflow <= 0, f"{path} is {overflow} px wider than the screen"
    # Only a phone is told to swipe the week sideways.
    page.goto(f"{live_server.url}/calendar/week/{today}/")
    assert page.is_visible("text=swipe the grid sideways") == (width < 720)
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


# Whether an element is cut: its box runs past the screen, or past an ancestor that clips
# what overflows it (a scrolling table or grid counts: on a phone nothing says it scrolls).
CUT = """(selector) => {
    const cut = [];
    for (const el of document.querySelectorAll(selector)) {
        const box = el.getBoundingClientRect();
        if (!box.width) continue;
        let edges = [0, window.innerWidth];
        for (let up = el.parentElement; up; up = up.parentElement) {
            if (getComputedStyle(up).overflowX !== "visible") {
                const r = up.getBoundingClientRect();
                edges = [Math.max(edges[0], r.left), Math.min(edges[1], r.right)];
            }
        }
        if (box.left < edges[0] - 0.5 || box.right > edges[1] + 0.5) {
            cut.push(el.textContent.trim().slice(0, 30) + " (" + Math.round(box.left) + "-"
                + Math.round(box.right) + " of " + edges.map(Math.round).join("-") + ")");
        }
    }
    return cut;
}"""


def test_on_a_phone_the_list_and_the_month_show_every_post_whole(browser, live_server, team):
    # At 390 px All posts was a 482 px table in a box that hid its Status ("Sc") with dates
    # over five lines; the month showed Monday to Thursday and cut its badges ("Ready for re").
    from calendar_app.models import Label

    now = datetime.now(UTC)
    month = (now.replace(day=1) + timedelta(days=32)).replace(day=10, hour=8, minute=0)
    launch = Label.objects.create(workspace=team.workspace, name="Product launch", colour=1)
    statuses = ["in_review", "changes_requested", "draft", "scheduled"]
    for n in range(8):
        slot = team.slot(month + timedelta(days=n % 4, hours=n), status=statuses[n % 4])
        if n % 3 == 0:
            slot.labels.add(launch)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", team.manager.username)
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/slots/")
    rows = "#slot-results tbody tr[data-slot]"
    assert page.locator(rows).count() == 8
    parts = [f"{rows} td {part}" for part in ("a", ".dot", ".badge", ".label-chip")]
    assert page.evaluate(CUT, ", ".join(parts)) == []
    assert page.evaluate(CUT, f"{rows} td") == []
    # A date reads on one line.
    lines = page.eval_on_selector_all(
        f"{rows} td a", "links => links.map(a => a.getClientRects().length)"
    )
    assert set(lines) == {1}, lines
    # Ticking a post and the whole page are still there.
    assert page.is_visible("[data-bulk-page]") and page.is_visible(f"{rows} [data-bulk-check]")

    page.goto(f"{live_server.url}/calendar/{month.year}/{month.month}/")
    # Every day of the month is on the screen (none behind a sideways scroll), each card and
    # its badges and labels whole.
    assert page.evaluate(CUT, ".day:not(.day-outside)") == []
    assert page.evaluate(CUT, ".slot-card, .slot-card .badge, .slot-card .label-chip") == []
    badges = page.locator(".slot-card .badge").all()
    assert len(badges) == 8
    for badge in badges:
        card = badge.locator("xpath=ancestor::article[1]").bounding_box()
        box = badge.bounding_box()
        assert box["x"] + box["width"] <= card["x"] + card["width"], badge.inner_text()
        assert badge.evaluate("b => b.scrollWidth <= b.clientWidth"), badge.inner_text()

    # The week's hourly grid is too wide for a phone: it scrolls sideways in its own box,
    # says so, and keeps its hours in view while it does.
    page.goto(f"{live_server.url}/calendar/week/{month.date()}/")
    assert page.is_visible("text=swipe the grid sideways")
    grid = page.locator(".week-grid")
    assert grid.evaluate("g => g.scrollWidth > g.clientWidth")
    grid.evaluate("g => { g.scrollLeft = 300; }")
    hour = page.locator(".wg-row:nth-child(3) .wg-hour").bounding_box()
    assert abs(hour["x"] - grid.bounding_box()["x"]) <= 1
    context.close()


def test_on_a_phone_the_account_pages_card_keeps_its_margins(browser, live_server, team):
    # allauth's pages (email, two-factor, password) are one card; it touched the screen's edges
    # and its title its top border.
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", team.admin.username)
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/accounts/email/")
    card = page.locator("main").bounding_box()
    title = page.locator("main h1").first.bounding_box()
    assert card["x"] >= 8 and card["x"] + card["width"] <= 390 - 8
    assert title["y"] - card["y"] >= 12 and title["x"] - card["x"] >= 12
    context.close()


def test_on_a_phone_the_team_and_the_sessions_show_every_button(browser, live_server, team):
    # The members' Change and Remove and the sessions' Sign out sat past the screen's edge.
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", team.admin.username)
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    for path, buttons in (("/team/", "#team-members button"), ("/settings/", "#sessions button")):
        page.goto(live_server.url + path)
        assert page.locator(buttons).count() > 0
        assert page.evaluate(CUT, buttons) == [], path
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
    context.close()
