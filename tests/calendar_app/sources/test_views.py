"""The Sources pages (#26): adding a file (streamed to a temporary file, refused by type or
size with a sentence next to the field), a text or a link; the live region and card; a
source's page with its hooks, and planning posts from them."""

from __future__ import annotations

import json
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from calendar_app.models import Idea, PlannedSlot, Source
from calendar_app.planning.live import live_token
from calendar_app.sources import services, uploads
from tests.calendar_app.sources.conftest import ready_source, wav_bytes

HTMX = {"HX-Request": "true"}


def toast(response) -> str:
    return json.loads(response["HX-Trigger"])["toast"]["message"]


def upload(client, team, name="memo.wav", data=None, **extra):
    file = SimpleUploadedFile(name, wav_bytes() if data is None else data, "audio/wav")
    return client.post("/sources/upload/", {"project": team.project.pk, "file": file}, **extra)


def test_the_sources_page_has_the_forms_and_is_in_the_navigation(client, team):
    client.force_login(team.editor)
    html = client.get("/sources/").content.decode()
    assert 'href="/sources/" aria-current="page">Sources</a>' in html
    assert 'id="upload-form"' in html and 'id="text-form"' in html
    assert ".wav" in html and "data-caps" in html


def test_it_needs_a_login(client, team):
    for url in ("/sources/", f"/sources/{ready_source(team).public_id}/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_another_workspaces_source_is_404(client, team):
    source = ready_source(team)
    client.force_login(team.outsider)
    assert client.get(f"/sources/{source.public_id}/").status_code == 404
    assert client.post(f"/sources/{source.public_id}/plan/", {"hooks": "hk_a"}).status_code == 404
    assert source.public_id.hex not in client.get("/sources/").content.decode()


def test_wrong_methods_are_405(client, team):
    client.force_login(team.editor)
    source = ready_source(team)
    assert client.post("/sources/").status_code == 405
    assert client.get("/sources/upload/").status_code == 405
    assert client.get("/sources/add/").status_code == 405
    assert client.get(f"/sources/{source.public_id}/plan/").status_code == 405


def test_an_upload_is_stored_under_its_id_and_handed_on(
    client, team, monkeypatch, django_capture_on_commit_callbacks
):
    handed = []
    monkeypatch.setattr(services.dispatch, "enqueue_sources", handed.append)
    client.force_login(team.editor)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, team, headers=HTMX)
    source = Source.objects.get()
    assert response["HX-Redirect"] == f"/sources/{source.public_id}/"
    assert source.name == "memo.wav" and source.content_type == "audio/wav"
    assert source.size_bytes == len(wav_bytes())
    assert source.local_path.endswith(source.public_id.hex)
    assert source.created_by == team.editor
    assert handed == [[source.pk]]


def test_uploads_stream_to_a_temporary_file(client, team, monkeypatch):
    seen = []
    real = services.source_create_file

    def spy(**kwargs):
        seen.append(kwargs["temporary_path"])
        return real(**kwargs)

    monkeypatch.setattr(services, "source_create_file", spy)
    client.force_login(team.editor)
    upload(client, team, data=b"\0" * 10)  # even a tiny file goes to disk, not memory
    assert seen and seen[0].endswith(".upload.wav")


def test_a_wrong_type_is_refused_next_to_the_field_and_nothing_saved(client, team):
    client.force_login(team.editor)
    response = upload(client, team, name="archive.zip", headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<form id="upload-form"')
    assert "Scripe takes audio or video" in html and "field-invalid" in html
    assert not Source.objects.exists()


def test_an_oversized_file_is_refused_while_it_streams(client, team, monkeypatch):
    small = {"audio/wav": 100}.get
    monkeypatch.setattr(uploads, "upload_cap", small)
    monkeypatch.setattr(services, "upload_cap", small)
    client.force_login(team.editor)
    response = upload(client, team, data=b"\0" * 101)
    html = response.content.decode()
    assert "of at most" in html and "Shorten or compress it" in html
    assert not Source.objects.exists()


def test_a_missing_file_or_project_is_said_next_to_the_field(client, team):
    client.force_login(team.editor)
    html = client.post("/sources/upload/", {"project": team.project.pk}).content.decode()
    assert "Choose a recording or document to upload." in html
    html = upload(client, team, name="memo.wav").content.decode()
    assert not Source.objects.filter(project=None).exists()
    response = client.post("/sources/upload/", {"file": SimpleUploadedFile("m.wav", b"x")})
    assert "Choose a project." in response.content.decode()
    assert Source.objects.count() == 1  # only the one good upload
    # Neither: both sentences at once, not one per try.
    html = client.post("/sources/upload/", {}, headers=HTMX).content.decode()
    assert "Choose a recording or document to upload." in html and "Choose a project." in html
    html = client.post("/sources/upload/", {"file": SimpleUploadedFile("n.zip", b"PK")}).content
    assert "Scripe takes audio or video" in html.decode() and "Choose a project." in html.decode()
    assert Source.objects.count() == 1


def test_the_upload_checks_csrf(team):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(team.editor)
    assert upload(strict, team).status_code == 403
    assert not Source.objects.exists()


def test_a_text_or_a_link_is_added(client, team, monkeypatch):
    monkeypatch.setattr(services.dispatch, "enqueue_sources", lambda ids: None)
    client.force_login(team.editor)
    response = client.post("/sources/add/", {"project": team.project.pk, "text": "Our story."})
    source = Source.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/sources/{source.public_id}/"
    assert source.kind == "text"
    response = client.post(
        "/sources/add/", {"project": team.project.pk, "url": "http://localhost:9/x"}, headers=HTMX
    )
    assert Source.objects.count() == 2  # local hosts are allowed in these tests


def test_a_link_the_server_may_not_call_is_refused_next_to_the_field(client, team, settings):
    settings.SCRIPE_ALLOW_LOCAL_HOSTS = False
    client.force_login(team.editor)
    response = client.post(
        "/sources/add/", {"project": team.project.pk, "url": "http://10.0.0.5/"}, headers=HTMX
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<form id="text-form"') and "this link cannot be read" in html
    assert not Source.objects.exists()


def test_the_live_region_answers_204_until_a_source_changes(client, team):
    ready_source(team)
    client.force_login(team.editor)
    Source.objects.update(updated_at=timezone.now() - timedelta(minutes=1))
    since = live_token()
    assert client.get(f"/sources/?since={since}", headers=HTMX).status_code == 204
    Source.objects.update(status="ingesting", progress=0.4, updated_at=timezone.now())
    response = client.get(f"/sources/?since={since}", headers=HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="source-list"')
    assert 'hx-trigger="every 2s"' in html and "40%" in html


def test_the_card_follows_the_ingest_and_refreshes_the_page_when_done(client, team):
    source = ready_source(team)
    Source.objects.filter(pk=source.pk).update(
        status="ingesting",
        progress=0.5,
        finished=False,
        updated_at=timezone.now() - timedelta(minutes=1),
    )
    client.force_login(team.editor)
    url = f"/sources/{source.public_id}/"
    html = client.get(url).content.decode()
    assert 'id="source-card"' in html and 'hx-trigger="every 2s"' in html and "50%" in html
    since = live_token()
    assert client.get(f"{url}?since={since}", headers=HTMX).status_code == 204
    Source.objects.filter(pk=source.pk).update(status="ready", updated_at=timezone.now())
    response = client.get(f"{url}?since={since}", headers=HTMX)
    assert response["HX-Refresh"] == "true"


def test_a_failed_source_shows_scripes_reason(client, team):
    source = ready_source(team)
    Source.objects.filter(pk=source.pk).update(
        status="failed", error_message="Scripe could not ingest it: no speech. Upload it again."
    )
    client.force_login(team.editor)
    html = client.get(f"/sources/{source.public_id}/").content.decode()
    assert "Scripe could not ingest it: no speech. Upload it again." in html


def test_the_source_page_shows_preview_duration_topics_and_hooks(client, team):
    source = ready_source(team)
    Source.objects.filter(pk=source.pk).update(local_deleted_at=source.created_at)
    client.force_login(team.editor)
    html = client.get(f"/sources/{source.public_id}/").content.decode()
    assert "Most teams plan content the week it is due." in html
    assert "8:02" in html  # 482 seconds
    assert "Planning content ahead" in html and "Plan on Fridays." in html
    assert 'value="hk_a"' in html and 'value="hk_c"' in html
    assert "the calendar deleted its own copy" in html


def test_planning_hooks_from_the_page_is_idempotent(client, team, scheduled_project):
    source = ready_source(team)
    client.force_login(team.editor)
    url = f"/sources/{source.public_id}/plan/"
    response = client.post(url, {"hooks": ["hk_a", "hk_b"]}, headers=HTMX)
    assert toast(response) == "2 posts planned at the next queue times."
    html = response.content.decode()
    assert html.lstrip().startswith('<form id="source-hooks"')
    assert html.count("Planned</span>") == 2 and 'value="hk_c"' in html
    again = client.post(url, {"hooks": ["hk_a"]}, headers=HTMX)
    assert toast(again) == "0 posts planned at the next queue times. 1 was planned before."
    assert PlannedSlot.objects.count() == 2


def test_ticked_hooks_go_on_the_ideas_board_from_the_page(client, team):
    source = ready_source(team)
    client.force_login(team.editor)
    url = f"/sources/{source.public_id}/plan/"
    response = client.post(url, {"hooks": ["hk_a", "hk_c"], "to": "board"}, headers=HTMX)
    assert toast(response) == "2 hooks put on the ideas board: drag each onto a day."
    html = response.content.decode()
    assert html.lstrip().startswith('<form id="source-hooks"')
    assert html.count("On the ideas board</a>") == 2
    again = client.post(url, {"hooks": ["hk_a"], "to": "board"}, headers=HTMX)
    assert toast(again).endswith(" 1 was there already.")
    assert Idea.objects.filter(source=source).count() == 2
    assert not PlannedSlot.objects.exists()
    board = client.get("/ideas/").content.decode()
    assert f'href="/sources/{source.public_id}/">founder-memo.wav</a>' in board


def test_an_outsider_cannot_put_hooks_on_a_board(client, team):
    source = ready_source(team)
    client.force_login(team.outsider)
    url = f"/sources/{source.public_id}/plan/"
    assert client.post(url, {"hooks": ["hk_a"], "to": "board"}).status_code == 404
    assert not Idea.objects.exists()


def test_planning_bad_hooks_says_so_and_plans_nothing(client, team, scheduled_project):
    source = ready_source(team)
    client.force_login(team.editor)
    url = f"/sources/{source.public_id}/plan/"
    html = client.post(url, {"hooks": ["hk_nope"]}).content.decode()
    assert "not this source" in html
    html = client.post(url, {}).content.decode()
    assert "Tick at least one hook" in html
    assert not PlannedSlot.objects.exists()


def test_planning_without_a_posting_schedule_says_what_to_do_and_plans_nothing(client, team):
    source = ready_source(team)
    client.force_login(team.editor)
    url = f"/sources/{source.public_id}/plan/"
    response = client.post(url, {"hooks": ["hk_a"], "to": "queue"}, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<form id="source-hooks"')
    assert 'role="alert"' in html and f"{team.project.name} has no posting schedule yet" in html
    assert "queue page" in html and "ideas board" in html
    # The ticks are kept, to put those hooks on the board instead.
    assert 'value="hk_a" checked' in html and 'value="hk_b" checked' not in html
    whole = client.post(url, {"hooks": ["hk_a"]}).content.decode()
    assert f"{team.project.name} has no posting schedule yet" in whole
    assert not PlannedSlot.objects.exists()


def test_the_sources_page_costs_the_same_for_one_source_or_twenty(
    client, team, django_assert_num_queries, django_assert_max_num_queries
):
    ready_source(team)
    client.force_login(team.editor)
    client.get("/sources/")
    with django_assert_max_num_queries(20) as one:
        client.get("/sources/")
    for _ in range(19):
        ready_source(team)
    with django_assert_num_queries(len(one.captured_queries)):
        assert client.get("/sources/").status_code == 200


def test_the_post_page_links_to_adding_a_source(client, team):
    slot = team.slot(timezone.now() + timedelta(days=3))
    client.force_login(team.editor)
    html = client.get(f"/slots/{slot.public_id}/").content.decode()
    assert f"/sources/?project={team.project.scripe_id}&amp;slot={slot.public_id}" in html


def test_malformed_input_is_a_sentence_not_a_500(client, team):
    client.force_login(team.editor)
    for url in ("https://[::1", "https://exa\x00mple.com/", "ftp://example.com/x"):
        response = client.post(
            "/sources/add/", {"project": team.project.pk, "url": url, "slot": "not-a-uuid"}
        )
        assert response.status_code == 200
        assert "field-invalid" in response.content.decode()
    response = client.post("/sources/add/", {"project": "x\x00", "text": "\x00\x00"})
    assert response.status_code == 200
    file = SimpleUploadedFile("memo.wav", wav_bytes(), "audio/wav")
    response = client.post(
        "/sources/upload/",
        {"project": team.project.pk, "file": file, "slot": "00000000-0000-0000-0000-000000000000"},
    )
    assert response.status_code == 302  # a post that is not theirs is simply not linked
    assert Source.objects.get().slot is None
    assert Source.objects.count() == 1


def test_a_hook_ideas_page_names_its_source(client, team):
    source = ready_source(team)
    [idea] = services.hooks_to_board(user=team.editor, source=source, hook_ids=["hk_b"]).added
    client.force_login(team.editor)
    html = client.get(f"/ideas/{idea.public_id}/").content.decode()
    assert f'A hook of <a href="/sources/{source.public_id}/">founder-memo.wav</a>' in html
