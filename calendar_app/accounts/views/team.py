"""The team page (#28): a workspace's members and pending invitations; managers and admins
invite, resend and revoke, admins change roles and remove people. And the invitee's page the
invitation link opens: a new account, or joining after signing in."""

from __future__ import annotations

from allauth.account.utils import perform_login
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from calendar_app.access import invitation_for, member_for, membership_for, viewer_for
from calendar_app.accounts import invitations, team
from calendar_app.accounts.forms import InvitationSignUpForm, InviteForm, RoleForm
from calendar_app.core.refusals import Refusal
from calendar_app.models import Membership, Role, person_name
from calendar_app.web.answers import done, refused, show_on_form

TEMPLATE = "accounts/team.html"


@login_required
def team_index(request: HttpRequest) -> HttpResponse:
    """The team page of the first workspace the viewer manages."""
    managed = viewer_for(request).workspaces_with(Role.MANAGER)
    if not managed:
        raise PermissionDenied(_("Only a manager or an admin can see the team page."))
    return redirect("team", workspace_id=managed[0].public_id)


def _render(
    request: HttpRequest,
    membership: Membership,
    form: InviteForm,
    status: int = 200,
    partial: str = "",
) -> HttpResponse:
    viewer = viewer_for(request)
    workspace = membership.workspace
    context = {
        "workspace": workspace,
        "membership": membership,
        "is_admin": membership.has_role(Role.ADMIN),
        "managed": viewer.workspaces_with(Role.MANAGER),
        "members": team.team_members(workspace.pk),
        "invitations": team.invitations_pending(workspace.pk),
        "form": form,
        "roles": Role.choices,
    }
    # The same address serves the page and each of its two lists (their partials).
    target = partial or (request.htmx.target if request.htmx else "")
    template = TEMPLATE
    if target in ("team-members", "team-invitations"):
        template += "#" + target.removeprefix("team-")
    return render(request, template, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def team_page(request: HttpRequest, workspace_id) -> HttpResponse:
    """The members and invitations; a POST invites (or resends to an address invited
    already). A refused invitation shows why next to its field, with what was typed."""
    viewer = viewer_for(request)
    membership = membership_for(viewer, workspace_id, role=Role.MANAGER, to=_("manage the team"))
    form = InviteForm(request.POST or None, top_role=membership.role)
    if request.method == "GET":
        return _render(request, membership, form)
    try:
        if not form.is_valid():
            return _render(request, membership, form, status=422)
        sent = invitations.invitation_create(
            viewer=viewer,
            workspace=membership.workspace,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
        )
    except Refusal as refusal:
        show_on_form(form, refusal)
        return _render(request, membership, form, status=422)
    _say_sent(request, sent)
    return redirect("team", workspace_id=workspace_id)


def _say_sent(request: HttpRequest, sent: invitations.Sent) -> None:
    email = sent.invitation.email
    if sent.error:
        messages.error(
            request,
            _(
                "The invitation to %(email)s is saved, but its email could not be sent "
                "(%(error)s). Try Resend in a moment, or tell your site's operator."
            )
            % {"email": email, "error": sent.error},
        )
    elif sent.resent:
        messages.success(
            request,
            _("Invitation sent to %(email)s again; the earlier link no longer works.")
            % {"email": email},
        )
    else:
        messages.success(
            request,
            _("Invitation sent to %(email)s; the link works for 7 days.") % {"email": email},
        )


def _back(workspace) -> str:
    return reverse("team", args=[workspace.public_id])


def _fragment(request: HttpRequest, workspace, target: str) -> HttpResponse:
    membership = next(m for m in viewer_for(request).memberships if m.workspace_id == workspace.pk)
    return _render(request, membership, InviteForm(top_role=membership.role), partial=target)


@login_required
@require_POST
def invitation_resend(request: HttpRequest, public_id) -> HttpResponse:
    invitation = invitation_for(viewer_for(request), public_id, to=_("resend invitations"))
    back = _back(invitation.workspace)
    try:
        sent = invitations.invitation_resend(viewer=viewer_for(request), invitation=invitation)
    except Refusal as refusal:
        return refused(request, refusal, redirect_to=back)
    if request.htmx and not sent.error:
        response = _fragment(request, invitation.workspace, "team-invitations")
        message = _("Invitation sent to %(email)s again; the earlier link no longer works.")
        return done(
            request, message % {"email": invitation.email}, redirect_to=back, response=response
        )
    _say_sent(request, sent)
    return redirect(back)


@login_required
@require_POST
def invitation_revoke(request: HttpRequest, public_id) -> HttpResponse:
    invitation = invitation_for(viewer_for(request), public_id, to=_("revoke invitations"))
    back = _back(invitation.workspace)
    try:
        invitations.invitation_revoke(viewer=viewer_for(request), invitation=invitation)
    except Refusal as refusal:
        return refused(request, refusal, redirect_to=back)
    message = _("Invitation to %(email)s revoked; its link no longer works.") % {
        "email": invitation.email
    }
    response = (
        _fragment(request, invitation.workspace, "team-invitations") if request.htmx else None
    )
    return done(request, message, redirect_to=back, response=response)


@login_required
@require_POST
def member_role(request: HttpRequest, public_id) -> HttpResponse:
    viewer = viewer_for(request)
    membership = member_for(viewer, public_id, to=_("change roles"))
    back = _back(membership.workspace)
    form = RoleForm(request.POST)
    try:
        if not form.is_valid():
            raise Refusal(fields={"role": _("Choose a role.")})
        role = form.cleaned_data["role"]
        team.membership_role_change(viewer=viewer, membership=membership, role=role)
    except Refusal as refusal:
        return refused(request, refusal, redirect_to=back)
    message = _("%(person)s is now %(role)s.") % {
        "person": person_name(membership.user),
        "role": Role(role).label.lower(),
    }
    if membership.user_id == request.user.pk and role != Role.ADMIN:
        # They no longer administer it: the page they were on is not theirs to change.
        messages.success(request, message)
        return redirect("home") if role == Role.EDITOR else redirect(back)
    response = _fragment(request, membership.workspace, "team-members") if request.htmx else None
    return done(request, message, redirect_to=back, response=response)


@login_required
@require_POST
def member_remove(request: HttpRequest, public_id) -> HttpResponse:
    viewer = viewer_for(request)
    membership = member_for(viewer, public_id, to=_("remove people"))
    back = _back(membership.workspace)
    try:
        team.membership_remove(viewer=viewer, membership=membership)
    except Refusal as refusal:
        return refused(request, refusal, redirect_to=back)
    message = _(
        "%(person)s was removed from %(workspace)s; their posts stay, attributed to them."
    ) % {"person": person_name(membership.user), "workspace": membership.workspace.name}
    if membership.user_id == request.user.pk:
        messages.success(request, message)
        return redirect("home")
    response = _fragment(request, membership.workspace, "team-members") if request.htmx else None
    return done(request, message, redirect_to=back, response=response)


# the invitee ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def invitation_page(request: HttpRequest, token: str) -> HttpResponse:
    """What the invitation link opens. Signed in: a button joins as that person. Signed out,
    with an account for the address: sign in first (and come back here). Otherwise: a name
    and a password make the account, which joins and lands on the calendar. A link that was
    used, revoked or expired says so, and what to do."""
    try:
        invitation = invitations.invitation_by_secret(token)
    except invitations.InvitationGone as gone:
        return render(request, "accounts/invitation.html", {"gone": gone}, status=410)
    user = request.user
    context = {"invitation": invitation, "token": token}
    response = None
    if user.is_authenticated:
        if not invitations.address_owned(user=user, email=invitation.email):
            # Someone else's invitation: no Join button (the service refuses it too).
            context["status"] = 403
            context["not_yours"] = True
        elif request.method == "POST":
            response = _accept(request, invitation, user)
    elif invitations.account_exists(invitation.email):
        context["sign_in_url"] = f"{reverse('login')}?next={request.path}"
        if request.method == "POST":
            return redirect(context["sign_in_url"])
    else:
        form = InvitationSignUpForm(request.POST or None, email=invitation.email)
        context["form"] = form
        if request.method == "POST" and form.is_valid():
            try:
                data = form.cleaned_data
                new = invitations.invitation_sign_up(
                    invitation=invitation,
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    password=data["password1"],
                )
            except Refusal as refusal:
                show_on_form(form, refusal)
            else:
                _welcome(request, invitation)
                # allauth's log-in: its signal records the session for the sessions list, and
                # a workspace that requires two factors leads through enrolment from here.
                return perform_login(
                    request,
                    new,
                    email_verification="none",
                    redirect_url=reverse("home"),
                    email=invitation.email,
                    signup=True,
                )
        if request.method == "POST":
            context["status"] = 422
    if response is not None:
        return response
    return render(request, "accounts/invitation.html", context, status=context.pop("status", 200))


def _accept(request: HttpRequest, invitation, user) -> HttpResponse:
    try:
        invitations.invitation_accept(invitation=invitation, user=user)
    except invitations.InvitationGone as gone:
        return render(request, "accounts/invitation.html", {"gone": gone}, status=410)
    _welcome(request, invitation)
    return redirect("home")


def _welcome(request: HttpRequest, invitation) -> None:
    messages.success(
        request,
        _("Welcome to %(workspace)s: you are %(role)s there.")
        % {"workspace": invitation.workspace.name, "role": invitation.get_role_display().lower()},
    )
