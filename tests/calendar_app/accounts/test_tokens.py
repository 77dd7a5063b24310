"""Personal access tokens: shown once, stored hashed, scopes within the role, revoked and
expired tokens refused; and the settings page that makes, lists and revokes them."""

from __future__ import annotations

import hashlib
import html
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from calendar_app.access import viewer_of
from calendar_app.accounts.tokens import token_authenticate, token_create, token_revoke
from calendar_app.core.refusals import Refusal
from calendar_app.models import ApiToken, Membership, Role

pytestmark = pytest.mark.django_db

SETTINGS = "/settings/"
MAKE = "/settings/tokens/"


def _make(team, user=None, scopes=("read", "plan"), days=30, name="CRM sync", workspace=None):
    return token_create(
        viewer=viewer_of(user or team.editor),
        workspace=workspace or team.workspace,
        name=name,
        scopes=list(scopes),
        expires_in_days=days,
    )


def test_only_the_hash_of_the_secret_is_stored(team):
    made = _make(team)
    assert made.secret.startswith("scal_")
    assert len(made.secret) > 40
    token = ApiToken.objects.get()
    assert token.token_hash == hashlib.sha256(made.secret.encode()).hexdigest()
    assert made.secret not in str(list(ApiToken.objects.values()))


def test_a_live_token_acts_as_its_person_in_its_workspace_only(team):
    Membership.objects.create(user=team.editor, workspace=team.other_workspace, role=Role.ADMIN)
    use = token_authenticate(_make(team).secret)
    assert use.viewer.user == team.editor
    assert use.viewer.workspace_ids == [team.workspace.pk]
    assert use.scopes == {"read", "plan"}
    assert ApiToken.objects.get().last_used_at is not None


def test_a_revoked_token_no_longer_works(team):
    made = _make(team)
    assert token_revoke(token=made.token)
    assert token_authenticate(made.secret) is None
    assert not token_revoke(token=made.token)


def test_an_expired_token_no_longer_works(team, time_machine):
    made = _make(team, days=7)
    time_machine.move_to(timezone.now() + timedelta(days=8))
    assert token_authenticate(made.secret) is None


def test_a_token_whose_person_left_the_workspace_no_longer_works(team):
    made = _make(team)
    Membership.objects.filter(user=team.editor).delete()
    assert token_authenticate(made.secret) is None


def test_scopes_are_never_more_than_the_role_allows(team):
    with pytest.raises(Refusal) as refused:
        _make(team, scopes=["read", "review"])
    assert refused.value.fields["scopes"] == (
        "As an editor you can give a token only read, plan; not review."
    )
    assert not ApiToken.objects.exists()
    assert _make(team, user=team.admin, scopes=["admin"]).token.scope_list == ["admin"]


def test_a_demoted_persons_token_loses_the_scopes_above_their_role(team):
    made = _make(team, user=team.manager, scopes=["read", "review"])
    Membership.objects.filter(user=team.manager).update(role=Role.EDITOR)
    assert token_authenticate(made.secret).scopes == {"read"}


def test_a_token_needs_a_name_and_a_scope(team):
    with pytest.raises(Refusal) as refused:
        _make(team, name="  ", scopes=[])
    assert set(refused.value.fields) == {"name", "scopes"}


def test_no_token_for_a_workspace_one_is_not_in(team):
    with pytest.raises(Refusal) as refused:
        _make(team, workspace=team.other_workspace)
    assert "workspace" in refused.value.fields


# The settings page --------------------------------------------------------------------------------


def _form(team, **changes) -> dict:
    return {
        "name": "Zapier",
        "workspace": str(team.workspace.public_id),
        "scopes": ["read", "plan"],
        "expires_in_days": "30",
        **changes,
    }


def _secret_on(page: str) -> str:
    return page.split('id="new-token" type="text" readonly value="')[1].split('"')[0]


def test_the_page_shows_a_new_token_once(team, client):
    client.force_login(team.editor)
    answer = client.post(MAKE, _form(team))
    # Post-redirect-get: a reload of the page showing the secret makes no second token.
    assert answer.status_code == 302
    assert answer["Location"] == f"{SETTINGS}#api-tokens"
    shown = client.get(answer["Location"])
    token = ApiToken.objects.get()
    secret = _secret_on(shown.content.decode())
    assert token_authenticate(secret).token == token
    assert "no-store" in shown["Cache-Control"]
    again = client.get(SETTINGS).content.decode()
    assert "Zapier" in again
    assert secret not in again
    assert ApiToken.objects.count() == 1


def test_the_secret_waits_in_the_session_encrypted(team, client):
    client.force_login(team.editor)
    client.post(MAKE, _form(team))
    stored = str(dict(client.session.items()))
    secret = _secret_on(client.get(SETTINGS).content.decode())
    assert secret not in stored
    assert not any(key.startswith("shown-once:") for key, _ in client.session.items())


def test_the_page_says_why_a_token_was_refused_and_keeps_what_was_typed(team, client):
    client.force_login(team.editor)
    answer = client.post(MAKE, _form(team, scopes=["read", "admin"]))
    assert answer.status_code == 422
    page = answer.content.decode()
    assert "you can give a token only read, plan; not admin." in page
    assert 'value="Zapier"' in page
    assert not ApiToken.objects.exists()


def test_a_person_revokes_their_token(team, client):
    made = _make(team)
    client.force_login(team.editor)
    answer = client.post(f"{MAKE}{made.token.public_id}/revoke/")
    assert answer.status_code == 302
    assert token_authenticate(made.secret) is None


def test_an_admin_sees_and_revokes_the_workspaces_tokens(team, client):
    made = _make(team)
    client.force_login(team.admin)
    assert "CRM sync" in client.get(SETTINGS).content.decode()
    client.post(f"{MAKE}{made.token.public_id}/revoke/")
    assert token_authenticate(made.secret) is None


def test_a_colleague_cannot_revoke_anothers_token(team, client):
    made = _make(team)
    client.force_login(team.manager)
    assert "CRM sync" not in client.get(SETTINGS).content.decode()
    assert client.post(f"{MAKE}{made.token.public_id}/revoke/").status_code == 404
    assert token_authenticate(made.secret) is not None


def test_an_outsider_cannot_revoke_it(team, client):
    made = _make(team)
    client.force_login(team.outsider)
    assert client.post(f"{MAKE}{made.token.public_id}/revoke/").status_code == 404


def test_anonymous_is_sent_to_log_in(team, client):
    answer = client.post(MAKE, _form(team))
    assert answer.status_code == 302
    assert "/accounts/login/" in answer["Location"]
    assert not ApiToken.objects.exists()


def test_revoking_takes_post_only_and_the_making_address_leads_to_the_tokens(team, client):
    made = _make(team)
    client.force_login(team.editor)
    opened = client.get(MAKE)
    assert (opened.status_code, opened["Location"]) == (302, f"{SETTINGS}#api-tokens")
    assert client.delete(MAKE).status_code == 405
    assert client.get(f"{MAKE}{made.token.public_id}/revoke/").status_code == 405


def _scope_box(page: str, scope: str) -> str:
    return page.split(f'name="scopes" value="{scope}"')[1].split(">")[0]


def test_the_form_offers_only_the_scopes_of_the_role_in_the_workspace(team, client):
    client.force_login(team.editor)
    page = client.get(SETTINGS).content.decode()
    assert "disabled" not in _scope_box(page, "read")
    assert "disabled" not in _scope_box(page, "plan")
    assert "disabled" in _scope_box(page, "review")
    assert "disabled" in _scope_box(page, "admin")
    assert "Only managers and admins of the chosen workspace may give it." in page
    assert "Only admins of the chosen workspace may give it." in page
    client.force_login(team.admin)
    page = client.get(SETTINGS).content.decode()
    assert all("disabled" not in _scope_box(page, s) for s in ("read", "plan", "review", "admin"))


def test_the_workspace_choice_carries_each_workspaces_scopes(team, client):
    Membership.objects.create(user=team.editor, workspace=team.other_workspace, role=Role.MANAGER)
    client.force_login(team.editor)
    page = client.get(SETTINGS).content.decode()
    scopes = json.loads(html.unescape(page.split('data-scopes="')[1].split('"')[0]))
    assert scopes == {
        str(team.workspace.public_id): ["read", "plan"],
        str(team.other_workspace.public_id): ["read", "plan", "review"],
    }
    # A form sent back for the other workspace draws its scopes.
    answer = client.post(
        MAKE, _form(team, workspace=str(team.other_workspace.public_id), name="", scopes=[])
    )
    assert answer.status_code == 422
    assert "disabled" not in _scope_box(answer.content.decode(), "review")
    assert "disabled" in _scope_box(answer.content.decode(), "admin")


def test_a_scope_sent_past_the_disabled_box_is_still_refused(team, client):
    client.force_login(team.editor)
    answer = client.post(MAKE, _form(team, scopes=["read", "review"]))
    assert answer.status_code == 422
    assert "not review" in answer.content.decode()
    assert not ApiToken.objects.exists()
