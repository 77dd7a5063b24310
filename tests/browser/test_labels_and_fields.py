"""A label leads to its own field: clicking it (or a screen reader naming the field) lands on
the field beside it, also in a dialog opened over a page with a form of its own (#24)."""

from __future__ import annotations

import pytest


@pytest.mark.browser
def test_the_new_post_dialogs_project_label_leads_to_its_own_field(browser, live_server, team):
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
    page.goto(f"{live_server.url}/slots/")  # All posts, with its filter's Project
    page.get_by_role("link", name="New post").click()
    dialog = page.locator("dialog[open]")
    dialog.locator("#slot-form").wait_for()

    dialog.locator("label", has_text="Project").first.click()
    focused = page.evaluate(
        "[document.activeElement.name, !!document.activeElement.closest('dialog')]"
    )
    assert focused == ["project", True]
    dialog.get_by_label("Project").select_option(label="Lena Fischer")
    assert page.locator("form.filters select[name=project]").input_value() == ""
    context.close()
    assert problems == []
