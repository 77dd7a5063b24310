"""The team page (#28): who sees it, inviting from it, resend and revoke, and the admins'
role changes and removals, with the workspace never left without an admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from calendar_app.access import viewer_of
from calendar_app.accounts import invitations
from calendar_app.accounts import team as team_services
from calendar_app.core.refusals import Refusal
from calendar_app.models import ApiToken, Invitation, Membership


def team_url(team) -> str:
    return f"/team/{team.workspace.public_id}/"


def member(team, user) -> Membership:
    return Membership.objects.get(user=user, workspace=team.workspace)


@pytest.fixture
def pending(team, mailoutbox) -> Invitation:
    return invitations.invitation_create(
        viewer=viewer_of(team.manager),
        workspace=team.workspace,
        email="nina@example.com",
        role="editor",
    ).invitation


# the page ------------------------------------------------------------------------------------


def test_a_manager_sees_members_and_pending_invitations(
    client, team, pending, django_assert_max_num_queries
):
    client.force_login(team.manager)
    # session, user, memberships, members, invitations (+ the page's shared context)
    with django_assert_max_num_queries(12):
        response = client.get(team_url(team))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Team of Acme" in body and "nina@example.com" in body
    assert "Erin" in body and "Max" in body and "ada" in body
    assert "Admins change roles and remove people." in body
    # A manager may not offer the admin role.
    assert '<option value="admin"' not in body.split('id="team-invitations"')[0]


def test_the_query_count_does_not_grow_with_the_team(client, team, django_assert_num_queries):
    from django.contrib.auth import get_user_model

    client.force_login(team.admin)
    client.get(team_url(team))
    with CaptureQueriesContext(connection) as few:
        client.get(team_url(team))
    for n in range(5):
        user = get_user_model().objects.create_user(f"p{n}")
        Membership.objects.create(user=user, workspace=team.workspace)
        Invitation.objects.create(workspace=team.workspace, email=f"i{n}@x.com", token_hash=f"h{n}")
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(team_url(team))


def test_the_nav_links_the_team_for_managers_only(client, team):
    client.force_login(team.manager)
    assert 'href="/team/"' in client.get("/settings/").content.decode()
    client.force_login(team.editor)
    assert 'href="/team/"' not in client.get("/settings/").content.decode()


def test_team_index_goes_to_the_first_managed_workspace(client, team):
    client.force_login(team.manager)
    assert client.get("/team/").url == team_url(team)
    client.force_login(team.editor)
    assert client.get("/team/").status_code == 403


def test_anonymous_is_sent_to_log_in(client, team):
    response = client.get(team_url(team))
    assert response.status_code == 302 and "login" in response.url


def test_an_outsider_gets_404(client, team, pending):
    client.force_login(team.outsider)
    assert client.get(team_url(team)).status_code == 404
    assert client.post(f"/team/invitations/{pending.public_id}/revoke/").status_code == 404
    assert (
        client.post(f"/team/members/{member(team, team.editor).public_id}/remove/").status_code
        == 404
    )
    assert Membership.objects.filter(user=team.editor).exists()


def test_an_editor_cannot_see_the_page_or_invite(client, team):
    client.force_login(team.editor)
    assert client.get(team_url(team)).status_code == 403
    assert client.post(team_url(team), {"email": "a@x.com", "role": "editor"}).status_code == 403
    assert not Invitation.objects.exists()


def test_wrong_methods_are_refused(client, team, pending):
    client.force_login(team.admin)
    assert client.put(team_url(team)).status_code == 405
    assert client.get(f"/team/invitations/{pending.public_id}/resend/").status_code == 405
    assert (
        client.get(f"/team/members/{member(team, team.editor).public_id}/role/").status_code == 405
    )


# inviting ------------------------------------------------------------------------------------


def test_a_manager_invites_from_the_page(client, team, mailoutbox):
    client.force_login(team.manager)
    response = client.post(
        team_url(team), {"email": "nina@example.com", "role": "manager"}, follow=True
    )
    assert (
        "Invitation sent to nina@example.com; the link works for 7 days."
        in response.content.decode()
    )
    assert Invitation.objects.get().role == "manager"
    assert len(mailoutbox) == 1


def test_a_role_above_ones_own_is_refused_next_to_the_field(client, team, mailoutbox):
    client.force_login(team.manager)
    response = client.post(team_url(team), {"email": "nina@example.com", "role": "admin"})
    assert response.status_code == 422
    body = response.content.decode()
    assert "Select a valid choice" in body  # the form offers only roles up to one's own
    assert 'value="nina@example.com"' in body
    assert not Invitation.objects.exists() and mailoutbox == []


def test_a_bad_address_and_a_member_are_refused_next_to_the_email(client, team, mailoutbox):
    client.force_login(team.admin)
    response = client.post(team_url(team), {"email": "not an email", "role": "editor"})
    assert (
        response.status_code == 422 and "Enter a valid email address." in response.content.decode()
    )
    team.editor.email = "erin@example.com"
    team.editor.save()
    response = client.post(team_url(team), {"email": "erin@example.com", "role": "editor"})
    assert "erin@example.com is already a member of Acme." in response.content.decode()
    assert not Invitation.objects.exists()


def test_resend_and_revoke_from_the_page(client, team, pending, mailoutbox):
    client.force_login(team.manager)
    response = client.post(f"/team/invitations/{pending.public_id}/resend/", follow=True)
    assert "again; the earlier link no longer works" in response.content.decode()
    assert len(mailoutbox) == 2
    response = client.post(f"/team/invitations/{pending.public_id}/revoke/", follow=True)
    assert "revoked; its link no longer works" in response.content.decode()
    pending.refresh_from_db()
    assert pending.state == "revoked"
    response = client.post(f"/team/invitations/{pending.public_id}/resend/", follow=True)
    assert "accepted or revoked meanwhile" in response.content.decode()


def test_htmx_revoke_answers_with_the_invitations_list_only(client, team, pending):
    client.force_login(team.manager)
    response = client.post(
        f"/team/invitations/{pending.public_id}/revoke/",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="team-invitations",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section class="card" id="team-invitations"')
    assert "No invitations waiting." in body and "<html" not in body
    assert "revoked" in response.headers["HX-Trigger"]


def test_htmx_get_of_the_members_list(client, team):
    client.force_login(team.admin)
    response = client.get(team_url(team), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="team-members")
    body = response.content.decode()
    assert (
        body.lstrip().startswith('<section class="card" id="team-members"') and "<html" not in body
    )


# roles and removal ---------------------------------------------------------------------------


def test_an_admin_changes_a_role(client, team):
    client.force_login(team.admin)
    response = client.post(
        f"/team/members/{member(team, team.editor).public_id}/role/",
        {"role": "manager"},
        follow=True,
    )
    assert "Erin is now manager." in response.content.decode()
    assert member(team, team.editor).role == "manager"


def test_a_manager_cannot_change_roles_or_remove(client, team):
    client.force_login(team.manager)
    editor = member(team, team.editor)
    assert (
        client.post(f"/team/members/{editor.public_id}/role/", {"role": "manager"}).status_code
        == 403
    )
    assert client.post(f"/team/members/{editor.public_id}/remove/").status_code == 403
    assert member(team, team.editor).role == "editor"


def test_an_unknown_role_is_refused(client, team):
    client.force_login(team.admin)
    response = client.post(
        f"/team/members/{member(team, team.editor).public_id}/role/", {"role": "owner"}, follow=True
    )
    assert "Choose a role." in response.content.decode()
    assert member(team, team.editor).role == "editor"


def test_the_last_admin_can_be_neither_demoted_nor_removed(client, team):
    client.force_login(team.admin)
    mine = member(team, team.admin)
    response = client.post(
        f"/team/members/{mine.public_id}/role/", {"role": "manager"}, follow=True
    )
    assert "Acme needs at least one admin" in response.content.decode()
    response = client.post(f"/team/members/{mine.public_id}/remove/", follow=True)
    assert "Acme needs at least one admin" in response.content.decode()
    assert member(team, team.admin).role == "admin"


def test_with_a_second_admin_the_first_may_step_down(team):
    team_services.membership_role_change(
        viewer=viewer_of(team.admin), membership=member(team, team.manager), role="admin"
    )
    team_services.membership_role_change(
        viewer=viewer_of(team.admin), membership=member(team, team.admin), role="editor"
    )
    assert member(team, team.admin).role == "editor"
    with pytest.raises(Refusal):
        team_services.membership_role_change(
            viewer=viewer_of(team.manager), membership=member(team, team.manager), role="editor"
        )


def test_removal_keeps_the_posts_attributed_and_stops_the_tokens(client, team):
    slot = team.slot(timezone.now() + timedelta(days=2))
    token = ApiToken.objects.create(
        user=team.editor, workspace=team.workspace, name="CRM", token_hash="x" * 64
    )
    client.force_login(team.admin)
    response = client.post(
        f"/team/members/{member(team, team.editor).public_id}/remove/", follow=True
    )
    assert "Erin was removed from Acme; their posts stay" in response.content.decode()
    assert not Membership.objects.filter(user=team.editor, workspace=team.workspace).exists()
    slot.refresh_from_db()
    assert slot.created_by == team.editor
    token.refresh_from_db()
    assert token.revoked_at is not None
    # Gone from the workspace: its posts are no longer theirs to see.
    client.force_login(team.editor)
    assert client.get(f"/slots/{slot.public_id}/").status_code == 404
