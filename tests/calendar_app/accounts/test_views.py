from __future__ import annotations

from calendar_app.models import Profile


def test_a_user_picks_a_time_zone_and_pages_use_it(client, team):
    client.force_login(team.editor)
    response = client.post("/settings/", {"time_zone": "America/New_York"}, follow=True)
    assert "Times are now shown in America/New_York." in response.content.decode()
    assert Profile.objects.get(user=team.editor).time_zone == "America/New_York"
    assert "Times in America/New_York" in client.get("/calendar/2026/10/").content.decode()


def test_an_empty_choice_falls_back_to_the_workspace_zone(client, team):
    Profile.objects.create(user=team.editor, time_zone="Asia/Tokyo")
    client.force_login(team.editor)
    client.post("/settings/", {"time_zone": ""})
    assert "Times in Europe/Berlin" in client.get("/calendar/2026/10/").content.decode()


def test_an_unknown_zone_is_refused_next_to_the_field(client, team):
    client.force_login(team.editor)
    response = client.post("/settings/", {"time_zone": "Mars/Olympus"})
    assert "Select a valid choice" in response.content.decode()
    assert not Profile.objects.filter(user=team.editor, time_zone="Mars/Olympus").exists()


def test_settings_need_login(client):
    assert client.get("/settings/").status_code == 302


def test_a_user_picks_a_language_and_pages_use_it(client, team):
    client.force_login(team.editor)
    response = client.post("/settings/", {"time_zone": "", "language": "de"}, follow=True)
    page = response.content.decode()
    assert Profile.objects.get(user=team.editor).language == "de"
    assert '<html lang="de">' in page
    assert response.headers["Content-Language"] == "de"
    # Their choice beats the browser's.
    response = client.get("/calendar/2026/10/", headers={"Accept-Language": "en"})
    assert '<html lang="de">' in response.content.decode()
    assert "Oktober 2026" in response.content.decode()


def test_without_a_choice_the_browser_language_is_used(client, team):
    client.force_login(team.editor)
    response = client.get("/calendar/2026/10/", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert '<html lang="de">' in response.content.decode()
    response = client.get("/calendar/2026/10/", headers={"Accept-Language": "fr, en;q=0.5"})
    assert '<html lang="en">' in response.content.decode()


def test_the_login_page_follows_the_browser(client, db):
    response = client.get("/accounts/login/", headers={"Accept-Language": "de"})
    assert '<html lang="de">' in response.content.decode()


def test_an_unknown_language_is_refused_next_to_the_field(client, team):
    client.force_login(team.editor)
    response = client.post("/settings/", {"time_zone": "", "language": "xx"})
    assert "Select a valid choice" in response.content.decode()
    assert not Profile.objects.filter(user=team.editor).exists()
