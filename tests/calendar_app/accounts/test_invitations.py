"""Invitations (#28): invite within one's role, the email and its link, once and for seven
days, resend and revoke, and the invitee's page (a new account, or joining after signing in)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.utils import timezone

from calendar_app.access import viewer_of
from calendar_app.accounts import invitations
from calendar_app.core.refusals import Refusal
from calendar_app.models import Invitation, Membership

PASSWORD = "plum-harbour-87-lantern"


def link_in(message) -> str:
    return re.search(r"https?://\S+/invitations/\S+/", message.body).group(0)


def path_of(link: str) -> str:
    return "/invitations/" + link.split("/invitations/")[1]


def invite(team, mailoutbox=None, *, by=None, email="nina@example.com", role="editor"):
    sent = invitations.invitation_create(
        viewer=viewer_of(by or team.manager), workspace=team.workspace, email=email, role=role
    )
    assert not sent.error
    return sent.invitation, (path_of(link_in(mailoutbox[-1])) if mailoutbox is not None else "")


# the services --------------------------------------------------------------------------------


def test_it_sends_one_email_with_a_link_and_stores_only_the_hash(team, mailoutbox, settings):
    settings.EMAIL_LINK_BASE_URL = "https://cal.example.com"
    invitation, path = invite(team, mailoutbox, email=" Nina@Example.com ")
    [message] = mailoutbox
    assert message.to == ["nina@example.com"]
    assert message.subject == "[Scripe Calendar] Join Acme"
    assert "Max invites you" in message.body and "as editor" in message.body
    secret = path.split("/")[2]
    assert link_in(message).startswith("https://cal.example.com/invitations/")
    assert invitation.token_hash == invitations.invitation_hash(secret)
    assert secret not in invitation.token_hash
    assert invitation.email == "nina@example.com"
    assert invitation.sent_at is not None
    assert abs(invitation.expires_at - timezone.now() - timedelta(days=7)) < timedelta(minutes=1)


def test_a_role_above_the_inviters_own_is_refused_next_to_the_role(team, mailoutbox):
    with pytest.raises(Refusal) as refusal:
        invitations.invitation_create(
            viewer=viewer_of(team.manager), workspace=team.workspace, email="a@x.com", role="admin"
        )
    assert refusal.value.fields == {
        "role": "You can invite people as manager at most, your own role."
    }
    assert not Invitation.objects.exists()
    assert mailoutbox == []


def test_an_admin_may_invite_an_admin(team, mailoutbox):
    invitation, _ = invite(team, mailoutbox, by=team.admin, role="admin")
    assert invitation.role == "admin"


def test_an_editor_cannot_invite(team):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        invitations.invitation_create(
            viewer=viewer_of(team.editor), workspace=team.workspace, email="a@x.com", role="editor"
        )


def test_a_members_email_is_refused(team):
    team.editor.email = "erin@example.com"
    team.editor.save()
    with pytest.raises(Refusal) as refusal:
        invitations.invitation_create(
            viewer=viewer_of(team.manager),
            workspace=team.workspace,
            email="ERIN@example.com",
            role="editor",
        )
    assert refusal.value.fields["email"] == "erin@example.com is already a member of Acme."


def test_inviting_a_pending_address_again_resends_with_a_new_link(team, mailoutbox):
    first, old_path = invite(team, mailoutbox)
    again, new_path = invite(team, mailoutbox, role="manager")
    assert again.pk == first.pk and again.role == "manager"
    assert Invitation.objects.count() == 1
    assert old_path != new_path
    with pytest.raises(invitations.InvitationGone):
        invitations.invitation_by_secret(old_path.split("/")[2])
    assert invitations.invitation_by_secret(new_path.split("/")[2]).pk == first.pk


def test_resend_makes_a_new_link_and_seven_more_days(team, mailoutbox):
    invitation, old_path = invite(team, mailoutbox)
    with time_machine.travel(timezone.now() + timedelta(days=6)):
        sent = invitations.invitation_resend(viewer=viewer_of(team.manager), invitation=invitation)
        assert sent.resent and not sent.error
        left = sent.invitation.expires_at - timezone.now()
        assert abs(left - timedelta(days=7)) < timedelta(minutes=1)
    new_path = path_of(link_in(mailoutbox[-1]))
    with pytest.raises(invitations.InvitationGone) as gone:
        invitations.invitation_by_secret(old_path.split("/")[2])
    assert gone.value.reason == "unknown"
    invitations.invitation_by_secret(new_path.split("/")[2])


def test_a_failed_email_is_told_and_the_invitation_kept(team, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    sent = invitations.invitation_create(
        viewer=viewer_of(team.manager), workspace=team.workspace, email="a@x.com", role="editor"
    )
    assert sent.error
    sent.invitation.refresh_from_db()
    assert sent.invitation.sent_at is None
    assert sent.invitation.state == "pending"


def test_revoke_stops_the_link(team, mailoutbox):
    invitation, path = invite(team, mailoutbox)
    invitations.invitation_revoke(viewer=viewer_of(team.manager), invitation=invitation)
    with pytest.raises(invitations.InvitationGone) as gone:
        invitations.invitation_by_secret(path.split("/")[2])
    assert gone.value.reason == "revoked"
    with pytest.raises(Refusal):
        invitations.invitation_revoke(viewer=viewer_of(team.manager), invitation=invitation)


def test_accepting_makes_the_membership_once(team, mailoutbox):
    invitation, _ = invite(team, mailoutbox, role="manager")
    newcomer = get_user_model().objects.create_user("nina", email="nina@example.com")
    membership = invitations.invitation_accept(invitation=invitation, user=newcomer)
    assert (membership.workspace, membership.role) == (team.workspace, "manager")
    with pytest.raises(invitations.InvitationGone) as gone:
        invitations.invitation_accept(invitation=invitation, user=newcomer)
    assert gone.value.reason == "accepted"
    assert Membership.objects.filter(user=newcomer, workspace=team.workspace).count() == 1


def test_only_the_invited_address_accepts(team, mailoutbox):
    # A forwarded admin invitation must not let another account in, nor raise a member's role.
    invitation, _ = invite(team, mailoutbox, by=team.admin, email="nina@example.com", role="admin")
    with pytest.raises(Refusal) as refused:
        invitations.invitation_accept(invitation=invitation, user=team.editor)
    assert "This invitation is for nina@example.com" in str(refused.value)
    assert Membership.objects.get(user=team.editor, workspace=team.workspace).role == "editor"
    invitation.refresh_from_db()
    assert invitation.state == "pending"


def test_another_signed_in_account_is_told_to_log_out_and_cannot_join(client, team, mailoutbox):
    _, path = invite(team, mailoutbox, email="nina@example.com", role="manager")
    client.force_login(team.outsider)
    page = client.get(path)
    assert page.status_code == 403
    body = page.content.decode()
    assert "but this invitation is for nina@example.com" in body
    assert "Join Acme" not in body.split("</h1>", 1)[1]  # the heading names it; no button
    response = client.post(path)
    assert response.status_code == 403
    assert not Membership.objects.filter(user=team.outsider, workspace=team.workspace).exists()
    assert Invitation.objects.get(email="nina@example.com").state == "pending"


def test_an_expired_invitation_cannot_be_accepted(team, mailoutbox):
    invitation, path = invite(team, mailoutbox)
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        with pytest.raises(invitations.InvitationGone) as gone:
            invitations.invitation_by_secret(path.split("/")[2])
        assert gone.value.reason == "expired"
        nina = get_user_model().objects.create_user("nina", email="nina@example.com")
        with pytest.raises(invitations.InvitationGone):
            invitations.invitation_accept(invitation=invitation, user=nina)


def test_single_sign_on_accepts_the_pending_invitations_of_its_email(team, mailoutbox):
    invite(team, mailoutbox, role="manager")
    newcomer = get_user_model().objects.create_user("nina", email="nina@example.com")
    [membership] = invitations.invitations_accept_for_email(user=newcomer, email="Nina@example.com")
    assert membership.role == "manager"
    assert invitations.invitations_accept_for_email(user=newcomer, email="nina@example.com") == []


# the invitee's page --------------------------------------------------------------------------


def test_the_invitee_sets_a_name_and_password_and_lands_on_the_calendar(client, team, mailoutbox):
    _, path = invite(team, mailoutbox, role="manager")
    page = client.get(path)
    assert "Join Acme" in page.content.decode()
    response = client.post(
        path,
        {"first_name": "Nina", "last_name": "Berg", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302 and response.url == "/"
    nina = get_user_model().objects.get(email="nina@example.com")
    assert (nina.first_name, nina.username) == ("Nina", "nina@example.com")
    assert Membership.objects.get(user=nina, workspace=team.workspace).role == "manager"
    assert "Welcome to Acme" in client.get("/", follow=True).content.decode()
    # The link worked once.
    client.logout()
    used = client.get(path)
    assert used.status_code == 410
    assert "This invitation was used already" in used.content.decode()


def test_a_weak_password_is_refused_next_to_the_field_and_nothing_saved(client, team, mailoutbox):
    _, path = invite(team, mailoutbox)
    response = client.post(
        path, {"first_name": "Nina", "last_name": "", "password1": "123", "password2": "123"}
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "This password is too short" in body
    assert 'value="Nina"' in body
    assert not get_user_model().objects.filter(email="nina@example.com").exists()


def test_two_different_passwords_are_refused(client, team, mailoutbox):
    _, path = invite(team, mailoutbox)
    response = client.post(
        path, {"first_name": "Nina", "password1": PASSWORD, "password2": PASSWORD + "x"}
    )
    assert response.status_code == 422
    assert "The two passwords differ." in response.content.decode()


def test_an_existing_account_signs_in_and_then_joins(client, team, mailoutbox):
    team.outsider.email = "olga@example.com"
    team.outsider.save()
    _, path = invite(team, mailoutbox, email="olga@example.com")
    page = client.get(path).content.decode()
    assert "Log in to join" in page
    assert f"/accounts/login/?next={path}" in page or f"login/?next={path}" in page
    client.force_login(team.outsider)
    response = client.post(path)
    assert response.status_code == 302
    assert Membership.objects.get(user=team.outsider, workspace=team.workspace).role == "editor"


def test_expired_revoked_and_unknown_links_say_so(client, team, mailoutbox):
    invitation, path = invite(team, mailoutbox)
    assert "does not work" in client.get("/invitations/nonsense/").content.decode()
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        expired = client.get(path)
        assert expired.status_code == 410
        assert "This invitation has expired" in expired.content.decode()
    invitations.invitation_revoke(viewer=viewer_of(team.manager), invitation=invitation)
    assert "was withdrawn" in client.get(path).content.decode()
    response = client.post(path, {"first_name": "N", "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 410
    assert not get_user_model().objects.filter(email="nina@example.com").exists()


def test_the_invitation_page_refuses_other_methods(client, team, mailoutbox):
    _, path = invite(team, mailoutbox)
    assert client.put(path).status_code == 405


def test_the_log_in_page_brings_an_existing_account_back_to_the_invitation(
    client, team, mailoutbox
):
    team.outsider.email = "olga@example.com"
    team.outsider.save()
    _, path = invite(team, mailoutbox, email="olga@example.com")
    response = client.post(
        f"/accounts/login/?next={path}", {"login": "olga", "password": "pw", "next": path}
    )
    assert response.url == path
    assert client.post(path).url == "/"
    assert Membership.objects.filter(user=team.outsider, workspace=team.workspace).exists()
