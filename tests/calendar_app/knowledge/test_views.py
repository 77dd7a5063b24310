"""The knowledge pages: a project's and the whole workspace's knowledge base."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from calendar_app.models import KnowledgeDocument, KnowledgeState

HTMX = {"HX-Request": "true"}


def page(team) -> str:
    return reverse("project_knowledge", args=[team.project.scripe_id])


def add_url(team) -> str:
    return reverse("project_knowledge_add", args=[team.project.scripe_id])


def workspace_page(team) -> str:
    return reverse("workspace_knowledge", args=[team.workspace.public_id])


def document(team, n: int = 1, **fields) -> KnowledgeDocument:
    fields.setdefault("project", team.project)
    fields.setdefault("added_by", team.manager)
    return KnowledgeDocument.objects.create(
        workspace=team.workspace,
        kind="text",
        name=f"Fact {n}",
        text=f"Fact {n}.",
        cost_cents=1,
        idempotency_key=f"key-{n}-{fields.get('project') and fields['project'].pk}",
        **fields,
    )


def test_a_manager_adds_a_text_and_sees_it_indexing(
    client, team, handed, django_capture_on_commit_callbacks
):
    client.force_login(team.manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            add_url(team), {"kind": "text", "name": "", "text": "We ship on Thursdays.", "url": ""}
        )
    assert response.status_code == 302 and response["Location"] == page(team)
    added = KnowledgeDocument.objects.get()
    assert (added.project, added.added_by, added.name) == (
        team.project,
        team.manager,
        "We ship on Thursdays.",
    )
    assert handed == [[added.pk]]
    shown = client.get(page(team)).content.decode()
    assert "We ship on Thursdays." in shown and "Indexing" in shown and "Max" in shown
    assert 'hx-trigger="knowledge-changed from:body, every' in shown  # live while indexing


def test_a_url_goes_to_the_whole_workspaces_knowledge_base(client, team, handed):
    client.force_login(team.admin)
    url = reverse("workspace_knowledge_add", args=[team.workspace.public_id])
    response = client.post(url, {"kind": "url", "url": "https://example.com/press"})
    assert response.status_code == 302
    added = KnowledgeDocument.objects.get()
    assert added.project is None and added.kind == "url" and added.url.endswith("/press")
    assert "example.com/press" in client.get(workspace_page(team)).content.decode()
    assert "example.com/press" not in client.get(page(team)).content.decode()


def test_bad_input_is_said_next_to_the_field_and_nothing_is_saved(client, team, handed):
    client.force_login(team.manager)
    response = client.post(add_url(team), {"kind": "youtube", "url": "https://vimeo.com/1234"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="field-error"' in body and "not the address of a YouTube video" in body
    assert 'value="https://vimeo.com/1234"' in body  # what was typed is kept
    assert not KnowledgeDocument.objects.exists() and handed == []


def test_the_htmx_add_answers_with_a_fresh_form_and_tells_the_list(client, team, handed):
    client.force_login(team.manager)
    response = client.post(add_url(team), {"kind": "text", "text": "A fact."}, headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and body.lstrip().startswith('<form id="knowledge-form"')
    assert "<html" not in body and "A fact." not in body
    assert "knowledge-changed" in response["HX-Trigger"] and "toast" in response["HX-Trigger"]


def test_the_htmx_add_with_bad_input_answers_with_the_form_and_its_errors(client, team, handed):
    client.force_login(team.manager)
    response = client.post(add_url(team), {"kind": "text", "text": ""}, headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and body.lstrip().startswith('<form id="knowledge-form"')
    assert "Write or paste the text" in body
    assert not KnowledgeDocument.objects.exists()


def test_an_editor_sees_the_list_but_may_not_add(client, team, handed):
    document(team)
    client.force_login(team.editor)
    shown = client.get(page(team)).content.decode()
    assert "Fact 1" in shown and "Only a manager or an admin can add" in shown
    assert 'id="knowledge-form"' not in shown
    response = client.post(add_url(team), {"kind": "text", "text": "Sneaky."}, follow=True)
    assert "Only a manager or an admin can add" in response.content.decode()
    assert KnowledgeDocument.objects.count() == 1
    refused = client.post(add_url(team), {"kind": "text", "text": "Sneaky."}, headers=HTMX)
    assert refused.status_code == 403 and "manager or an admin" in refused.content.decode()


def test_anonymous_people_are_sent_to_log_in(client, team):
    for url in (page(team), workspace_page(team)):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response["Location"]
    assert client.post(add_url(team), {"kind": "text", "text": "x"}).status_code == 302


def test_another_workspaces_knowledge_base_does_not_exist_for_an_outsider(client, team, handed):
    client.force_login(team.outsider)
    assert client.get(page(team)).status_code == 404
    assert client.get(workspace_page(team)).status_code == 404
    assert client.post(add_url(team), {"kind": "text", "text": "x"}).status_code == 404
    url = reverse("workspace_knowledge_add", args=[team.workspace.public_id])
    assert client.post(url, {"kind": "text", "text": "x"}).status_code == 404
    assert not KnowledgeDocument.objects.exists()


def test_wrong_methods_are_405(client, team):
    client.force_login(team.manager)
    assert client.get(add_url(team)).status_code == 405
    assert client.post(page(team)).status_code == 405


def test_a_failed_document_shows_scripes_reason(client, team):
    document(
        team,
        state=KnowledgeState.FAILED,
        finished=True,
        error_code="url_unreachable",
        error_message="Scripe could not index it: The page could not be fetched.",
    )
    client.force_login(team.editor)
    shown = client.get(page(team)).content.decode()
    assert "Failed" in shown and "The page could not be fetched." in shown
    assert "every" not in shown.split('id="knowledge-list"')[1].split(">")[0]  # not polling


def test_the_htmx_list_is_only_its_fragment(client, team):
    document(team)
    client.force_login(team.manager)
    body = client.get(page(team), headers=HTMX).content.decode()
    assert body.lstrip().startswith('<div id="knowledge-list"') and "<html" not in body
    assert "Fact 1" in body


@pytest.mark.parametrize("count", [1, 6])
def test_the_list_costs_the_same_queries_however_long(
    client, team, count, django_assert_num_queries
):
    for n in range(count):
        document(team, n, added_by=[team.manager, team.admin][n % 2])
    client.force_login(team.manager)
    # session, user, the viewer's memberships, their time zone (the middleware), the
    # project, the documents with their adders
    with django_assert_num_queries(6):
        response = client.get(page(team), headers=HTMX)
    assert response.content.decode().count("data-document=") == count


def test_the_projects_page_links_each_knowledge_base(client, team):
    document(team)
    document(team, 2, project=None)
    client.force_login(team.editor)
    shown = client.get(reverse("projects")).content.decode()
    assert page(team) in shown and workspace_page(team) in shown
    assert 'Knowledge base<span class="visually-hidden"> of ' in shown
    assert "</span> (1 document)</a>" in shown


def test_a_knowledge_base_keeps_its_place_under_projects(client, team):
    client.force_login(team.editor)
    for url in (page(team), workspace_page(team)):
        shown = client.get(url).content.decode()
        assert 'href="/projects/" aria-current="page">Projects</a>' in shown
        assert '<a href="/projects/">← Projects</a>' in shown


def test_a_manager_uploads_a_document_file(client, team, handed, tmp_path, settings):
    settings.SOURCE_UPLOAD_DIR = str(tmp_path)
    client.force_login(team.manager)
    upload = SimpleUploadedFile("Brand book.pdf", b"%PDF-1.4 brand book", "application/pdf")
    response = client.post(add_url(team), {"kind": "file", "file": upload})
    assert response.status_code == 302
    added = KnowledgeDocument.objects.get()
    assert (added.kind, added.name, added.content_type) == (
        "file",
        "Brand book.pdf",
        "application/pdf",
    )
    assert Path(added.local_path).read_bytes() == b"%PDF-1.4 brand book"
    shown = client.get(page(team)).content.decode()
    assert "Brand book.pdf" in shown and "our copy is deleted once Scripe has it" in shown


def test_a_file_of_another_type_is_refused_next_to_the_field(client, team, handed, tmp_path):
    client.force_login(team.manager)
    upload = SimpleUploadedFile("episode.mp3", b"ID3 not a document", "audio/mpeg")
    response = client.post(add_url(team), {"kind": "file", "file": upload}, headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and "PDF, Word or PowerPoint" in body
    assert 'class="field-error"' in body
    assert not KnowledgeDocument.objects.exists()


def test_the_file_kind_without_a_file_asks_for_one(client, team, handed):
    client.force_login(team.manager)
    response = client.post(add_url(team), {"kind": "file"})
    assert "Choose a document to upload." in response.content.decode()
    assert not KnowledgeDocument.objects.exists()
