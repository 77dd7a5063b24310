"""The knowledge base in Chromium (#26): a manager adds a text, a web page and a document file
to a project's knowledge base and sees each go from indexing to indexed without reloading,
while the real worker follows the ingests through the dispatcher."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from calendar_app.models import KnowledgeDocument, Project


@pytest.mark.browser
@pytest.mark.sandbox(knowledge_seconds=(3, 4))
def test_a_manager_adds_a_text_a_url_and_a_file_and_sees_them_indexed_live(journey):
    team = journey.team
    project = Project.objects.get(workspace=team.workspace, scripe_id=team.project.scripe_id)
    page = journey.page_for(team.manager)

    page.get_by_role("link", name="Projects").click()
    page.get_by_role("link", name=f"Knowledge base of {project.name}").click()
    page.get_by_role("heading", name=f"Knowledge base of {project.name}").wait_for()
    # It keeps its place: under Projects, with the way back.
    assert page.locator("nav a[aria-current=page]").inner_text() == "Projects"
    page.get_by_role("link", name="← Projects").wait_for()

    # A text.
    page.get_by_role("radio", name="A text").check()
    page.fill("#id_name", "Tone of voice")
    page.fill(
        "#id_text", "Plain words, short sentences, no buzzwords. We say 'we', not 'the company'."
    )
    page.get_by_role("button", name="Add to the knowledge base").click()
    text_row = page.locator("#knowledge-list tr", has_text="Tone of voice")
    text_row.get_by_text("Indexing").wait_for()

    # A web page, while the text is still being indexed.
    page.get_by_role("radio", name="A web page").check()
    page.fill("#id_url", "https://example.com/about-us")
    page.get_by_role("button", name="Add to the knowledge base").click()
    url_row = page.locator("#knowledge-list tr", has_text="example.com/about-us")
    url_row.wait_for()
    expect(page.locator("#id_url")).to_have_value("")  # a fresh form for the next one

    # A file a knowledge base does not take: the sentence in the browser, nothing sent.
    page.get_by_role("radio", name="A document file").check()
    page.set_input_files(
        "#id_file",
        files=[{"name": "notes.zip", "mimeType": "application/zip", "buffer": b"PK\x03\x04"}],
    )
    page.locator("#knowledge-form [data-file-error]", has_text="A knowledge base takes").wait_for()
    page.get_by_role("button", name="Add to the knowledge base").click()
    assert not KnowledgeDocument.objects.filter(name__contains="notes").exists()

    # And a document file, uploaded through the same form, its progress shown as it goes
    # (the Sources page's script, static/js/sources.js).
    page.evaluate(
        """() => {
          window.uploadSeen = [];
          document.addEventListener("htmx:xhr:progress", () => {
            const status = document.querySelector("#knowledge-form [data-upload-status]");
            window.uploadSeen.push(status.hidden ? "" : status.textContent);
          });
        }"""
    )
    facts = b"Founded 2019. Based in Berlin.\n" * 60_000  # about 2 MB
    page.set_input_files(
        "#id_file", files=[{"name": "facts.txt", "mimeType": "text/plain", "buffer": facts}]
    )
    assert page.locator("#knowledge-form [data-file-error]").is_hidden()
    page.get_by_role("button", name="Add to the knowledge base").click()
    file_row = page.locator("#knowledge-list tr", has_text="facts.txt")
    file_row.wait_for()
    seen = page.evaluate("window.uploadSeen")
    assert any(t.startswith(("Uploading", "Received")) for t in seen), seen

    # All three become indexed in place, with their cost, without a reload.
    text_row.get_by_text("Indexed").wait_for(timeout=30_000)
    url_row.get_by_text("Indexed").wait_for(timeout=30_000)
    file_row.get_by_text("Indexed").wait_for(timeout=30_000)
    assert "1 ¢" in text_row.inner_text() and "2 ¢" in url_row.inner_text()
    assert "our copy deleted, Scripe has it" in file_row.inner_text()
    assert "Max" in text_row.inner_text()
    states = set(KnowledgeDocument.objects.values_list("state", flat=True))
    assert states == {"indexed"}
    # Nothing is indexing any more, so the list stopped asking.
    assert "every" not in (page.locator("#knowledge-list").get_attribute("hx-trigger") or "")
