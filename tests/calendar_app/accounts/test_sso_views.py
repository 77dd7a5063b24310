"""The single sign-on page of a workspace (accounts/views.py), the settings page's section,
and the provider in the Django admin."""

from __future__ import annotations

import pytest

from calendar_app.accounts import sso
from calendar_app.models import Role, SingleSignOn
from scripe_integration import crypto

SECRET = "s3cret-from-the-idp"


@pytest.fixture(autouse=True)
def _local_issuers_allowed(settings):
    settings.SSO_ALLOW_LOCAL_HOSTS = True


def url(team) -> str:
    return f"/settings/sso/{team.workspace.public_id}/"


def form(**changes) -> dict:
    return {
        "label": "Acme",
        "issuer_url": "http://127.0.0.1:9/o/",
        "client_id": "calendar",
        "client_secret": SECRET,
        "allowed_domains": "acme.test, @Acme-Group.test",
        "new_member_role": Role.MANAGER,
        "enabled": "on",
        **changes,
    }


def test_an_admin_sets_up_single_sign_on_and_the_secret_is_stored_encrypted(client, team):
    client.force_login(team.admin)
    response = client.post(url(team), form(), follow=True)
    assert "Single sign-on is saved." in response.content.decode()
    provider = SingleSignOn.objects.get(workspace=team.workspace)
    assert provider.issuer_url == "http://127.0.0.1:9/o"
    assert provider.domains == ["acme.test", "acme-group.test"]
    assert provider.new_member_role == Role.MANAGER
    assert provider.enabled and not provider.sso_only
    assert SECRET not in provider.client_secret_encrypted
    assert crypto.decrypt(provider.client_secret_encrypted) == SECRET


def test_the_secret_is_never_rendered_back_and_a_blank_one_keeps_it(client, team):
    client.force_login(team.admin)
    client.post(url(team), form())
    page = client.get(url(team)).content.decode()
    assert SECRET not in page
    assert "A secret is stored" in page
    assert f"/accounts/oidc/{SingleSignOn.objects.get().public_id}/login/callback/" in page
    client.post(url(team), form(client_secret="", label="Acme Inc"))
    provider = SingleSignOn.objects.get()
    assert provider.label == "Acme Inc"
    assert crypto.decrypt(provider.client_secret_encrypted) == SECRET
    refused = client.post(url(team), form(client_secret="", issuer_url="ftp://x"))
    assert SECRET not in refused.content.decode()


def test_bad_input_is_shown_next_to_each_field_and_nothing_is_saved(client, team):
    client.force_login(team.admin)
    response = client.post(
        url(team),
        form(
            label="", issuer_url="", client_id="", client_secret="", allowed_domains="not a_domain"
        ),
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "Enter the name people know the company by" in page
    assert "Enter the provider&#x27;s issuer URL." in page
    assert "Enter the client ID" in page
    assert "Enter the client secret" in page
    assert "not is not a domain name." in page
    assert not SingleSignOn.objects.exists()


def test_a_typed_secret_refused_with_another_field_is_asked_for_again(client, team):
    client.force_login(team.admin)
    response = client.post(url(team), form(allowed_domains=""))
    assert response.status_code == 422
    page = response.content.decode()
    assert SECRET not in page
    assert "Type the client secret again: it is not shown back" in page
    assert not SingleSignOn.objects.exists()


def test_sso_only_needs_single_sign_on_on(client, team):
    client.force_login(team.admin)
    response = client.post(url(team), form(enabled="", sso_only="on"))
    assert "Turn single sign-on on as well" in response.content.decode()
    assert not SingleSignOn.objects.exists()


def test_an_issuer_on_a_private_address_is_refused_unless_allowed(client, team, settings):
    settings.SSO_ALLOW_LOCAL_HOSTS = False
    client.force_login(team.admin)
    for issuer in ("http://idp.example.com", "https://127.0.0.1/o", "https://169.254.169.254"):
        response = client.post(url(team), form(issuer_url=issuer))
        assert "Use an https address on the public internet." in response.content.decode()
    assert not SingleSignOn.objects.exists()


def test_anonymous_people_are_sent_to_log_in(client, team):
    response = client.get(url(team))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_an_outsider_cannot_see_or_edit_another_workspaces_provider(client, team):
    sso.sso_save(
        workspace=team.workspace,
        label="Acme",
        issuer_url="http://127.0.0.1:9/o",
        client_id="calendar",
        client_secret=SECRET,
        allowed_domains="acme.test",
    )
    client.force_login(team.outsider)
    assert client.get(url(team)).status_code == 404
    assert client.post(url(team), form(issuer_url="http://evil.test")).status_code == 404
    assert client.post(f"{url(team)}remove/").status_code == 404
    assert SingleSignOn.objects.get().issuer_url == "http://127.0.0.1:9/o"


def test_a_manager_may_not_set_it_up(client, team):
    client.force_login(team.manager)
    assert client.get(url(team)).status_code == 403
    assert client.post(url(team), form()).status_code == 403
    assert not SingleSignOn.objects.exists()


def test_wrong_methods_are_refused(client, team):
    client.force_login(team.admin)
    assert client.delete(url(team)).status_code == 405
    assert client.get(f"{url(team)}remove/").status_code == 405


def test_an_admin_removes_it(client, team):
    client.force_login(team.admin)
    client.post(url(team), form())
    response = client.post(f"{url(team)}remove/", follow=True)
    assert "Single sign-on is removed" in response.content.decode()
    assert not SingleSignOn.objects.exists()


def test_the_settings_page_links_each_administered_workspace(client, team):
    client.force_login(team.admin)
    page = client.get("/settings/").content.decode()
    assert url(team) in page
    assert "not set up" in page
    client.force_login(team.editor)
    assert url(team) not in client.get("/settings/").content.decode()


def test_the_django_admin_keeps_the_secret_write_only(client, team):
    team.admin.is_superuser = True
    team.admin.save()
    client.force_login(team.admin)
    data = {
        "workspace": team.workspace.pk,
        "label": "Acme",
        "issuer_url": "http://127.0.0.1:9/o",
        "client_id": "calendar",
        "client_secret": SECRET,
        "allowed_domains": "acme.test",
        "new_member_role": Role.EDITOR,
    }
    response = client.post("/admin/calendar_app/singlesignon/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    provider = SingleSignOn.objects.get()
    assert crypto.decrypt(provider.client_secret_encrypted) == SECRET
    page = client.get(f"/admin/calendar_app/singlesignon/{provider.pk}/change/").content.decode()
    assert SECRET not in page
    assert provider.client_secret_encrypted not in page
