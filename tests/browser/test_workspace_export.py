"""A workspace's export in Chromium (#29): an admin finds Exports from Settings, clicks
Export, watches the archive become ready (built by a real qcluster) and downloads it."""

from __future__ import annotations

import json
import zipfile

import pytest

from calendar_app.models import WorkspaceExport


@pytest.mark.browser
def test_an_admin_exports_the_workspace_and_downloads_the_archive(journey, tmp_path):
    team = journey.team
    page = journey.page_for(team.admin)

    page.goto(f"{journey.url}/settings/")
    page.locator("#exports").get_by_role("link", name="Exports").click()
    page.get_by_role("heading", name="Export a workspace").wait_for()

    section = page.locator(".export-workspace", has_text=team.workspace.name)
    section.get_by_role("button", name="Export").click()
    # The list polls itself while the archive is prepared, then offers it.
    download_link = section.get_by_role("link", name="Download")
    download_link.wait_for(timeout=60_000)
    assert section.get_by_role("button", name="Export").is_enabled()

    with page.expect_download() as waiting:
        download_link.click()
    saved = tmp_path / "archive.zip"
    waiting.value.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["workspace"]["public_id"] == str(team.workspace.public_id)
    assert WorkspaceExport.objects.get().status == "ready"
