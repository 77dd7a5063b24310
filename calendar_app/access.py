"""Who may see and do what. Every view starts here: `viewer_for` says who is asking (from a
request; `viewer_of` for a task acting for someone), and each `<object>_for` returns the
object asked for if it is in one of the viewer's workspaces, else 404 (it does not exist for
them); given `to` (what they want to do, in words), it also checks their role there, else 403
saying who may. `slot_visible_to` and `deleted_slot_for` answer None rather than 404, for
callers that decide themselves. Selectors take the `Viewer` this module makes; this module
reads nothing through them."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from calendar_app.models import (
    ApiToken,
    BulkRun,
    Idea,
    Invitation,
    Label,
    Membership,
    Notification,
    PlannedSlot,
    Profile,
    Project,
    ReviewLink,
    Role,
    Series,
    Source,
    WebhookDelivery,
    WebhookEndpoint,
    Workspace,
    WorkspaceExport,
)


class ScripeProblem(NamedTuple):
    """What the banner says about a workspace's Scripe. `blocking`: nothing can be sent until
    an admin acts (a missing or invalid key); otherwise generations wait and retry."""

    membership: Membership
    problem: str
    blocking: bool = True


# One sentence per role rather than a role word spliced in: German capitalises and inflects
# the role noun. The English wording is what it always was.
ONLY_ROLE_CAN = {
    Role.EDITOR: gettext_noop("Only an editor can %(action)s."),
    Role.MANAGER: gettext_noop("Only a manager can %(action)s."),
    Role.ADMIN: gettext_noop("Only an admin can %(action)s."),
}


def only_role_can(role: str, action: str) -> str:
    """The refusal "Only a <role> can <action>." in the active language."""
    return _(ONLY_ROLE_CAN[Role(role)]) % {"action": _(action)}


@dataclass
class Viewer:
    user: object
    memberships: list[Membership]

    @cached_property
    def workspace_ids(self) -> list[int]:
        return [m.workspace_id for m in self.memberships]

    @cached_property
    def broken_keys(self) -> list[ScripeProblem]:
        """Workspaces whose Scripe key stops generation, with the reason; and, for the
        workspace's admins only, a Scripe that has not answered lately or a base URL the
        server may not call."""
        broken = []
        for membership in self.memberships:
            scripe = getattr(membership.workspace, "scripe", None)
            if scripe is None or scripe.key_state == "missing":
                broken.append(ScripeProblem(membership, _("has no Scripe API key yet")))
            elif scripe.key_state == "invalid" and scripe.uses_oauth:
                reason = scripe.key_problem.shown() or _("Scripe refuses it")
                lost = _("has lost its connection with Scripe: %(reason)s") % {"reason": reason}
                broken.append(ScripeProblem(membership, lost))
            elif scripe.key_state == "invalid":
                reason = scripe.key_problem.shown() or _("Scripe refuses it")
                invalid = _("has an invalid Scripe key: %(reason)s") % {"reason": reason}
                broken.append(ScripeProblem(membership, invalid))
            if scripe and membership.has_role(Role.ADMIN) and scripe.base_url_refused:
                # Stored before the destination rule, or allowed by a setting since turned
                # off: the client refuses to connect, so say why rather than "no answer".
                problem = _(
                    "Scripe's base URL %(url)s is not an https address on the public "
                    "internet, so nothing is sent to it until an admin changes it."
                ) % {"url": scripe.base_url}
                broken.append(ScripeProblem(membership, problem, blocking=False))
            elif scripe and scripe.unreachable_since and membership.has_role(Role.ADMIN):
                since = timezone.localtime(scripe.unreachable_since, self.zone)
                when = f"{since:%H:%M}"
                if since.date() != timezone.localtime(timezone=self.zone).date():
                    when = _("%(time)s on %(day)s") % {
                        "time": when,
                        "day": date_format(since, _("j M")),
                    }
                problem = _(
                    "Scripe at %(url)s has not answered since %(when)s; generations wait and retry."
                ) % {"url": scripe.base_url, "when": when}
                broken.append(ScripeProblem(membership, problem, blocking=False))
        return broken

    @cached_property
    def managed_workspace_ids(self) -> list[int]:
        return [w.pk for w in self.workspaces_with(Role.MANAGER)]

    @cached_property
    def editable_workspace_ids(self) -> list[int]:
        return [w.pk for w in self.workspaces_with(Role.EDITOR)]

    def workspaces_with(self, role: str) -> list[Workspace]:
        return [m.workspace for m in self.memberships if m.has_role(role)]

    def can(self, role: str, workspace_id: int) -> bool:
        return any(m.workspace_id == workspace_id and m.has_role(role) for m in self.memberships)

    def require(self, role: str, workspace_id: int, action: str) -> None:
        """403 unless they hold `role` there. `action` is an English phrase marked with
        gettext_noop at the call site (or already translated), put into the reader's language
        here."""
        if not self.can(role, workspace_id):
            raise PermissionDenied(only_role_can(role, action))

    @cached_property
    def profile(self) -> Profile | None:
        """Their own settings (zone, language), if they saved any: one query, shared."""
        return Profile.objects.filter(user=self.user).first()

    @cached_property
    def language(self) -> str:
        """The interface language they chose, or "" to follow their browser."""
        return self.profile.language if self.profile else ""

    @cached_property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The user's own zone, else their first workspace's, else UTC."""
        profile = self.profile
        name = profile.time_zone if profile and profile.time_zone else ""
        if not name and self.memberships:
            name = self.memberships[0].workspace.time_zone
        return zoneinfo.ZoneInfo(name or "UTC")


def viewer_of(user) -> Viewer:
    """The person as the views see them, with their memberships as they are now (a task
    acting for someone counts a role they lost since they asked)."""
    memberships = list(
        Membership.objects.filter(user=user)
        .select_related("workspace__scripe")
        .order_by("workspace__name")
    )
    return Viewer(user, memberships)


def viewer_for(request: HttpRequest) -> Viewer:
    """Who is asking: one query per request, kept on the request."""
    if not hasattr(request, "_viewer"):
        request._viewer = viewer_of(request.user)
    return request._viewer


def slot_visible_to(viewer: Viewer, public_id) -> PlannedSlot | None:
    """A live slot in the viewer's workspaces, with what its card and page show."""
    return (
        PlannedSlot.objects.alive()
        .for_cards()
        # The page names the idea and the source's hook it was planned from (#26): in the
        # same row, not a query each (a reverse one-to-one is a query even when absent).
        .select_related("idea__source", "hook_plan__source")
        .filter(workspace_id__in=viewer.workspace_ids, public_id=public_id)
        .first()
    )


def slot_for(
    request: HttpRequest, public_id, *, to: str | None = None, role: str = Role.EDITOR
) -> PlannedSlot:
    """The slot, if it is in one of the user's workspaces (else 404); with `to` (what the user
    wants to do, in words), also checks their role there (else 403 saying who may)."""
    return slot_for_viewer(viewer_for(request), public_id, to=to, role=role)


def slot_for_viewer(
    viewer: Viewer, public_id, *, to: str | None = None, role: str = Role.EDITOR
) -> PlannedSlot:
    """`slot_for` for a viewer without a request (an assistant's token, calendar_app/assistants)."""
    slot = slot_visible_to(viewer, public_id)
    if slot is None:
        raise Http404(_("No such post."))
    if to is not None:
        viewer.require(role, slot.workspace_id, to)
    return slot


def deleted_slot_for(viewer: Viewer, public_id) -> PlannedSlot | None:
    """A slot deleted a moment ago in one of the viewer's workspaces, for Undo."""
    return PlannedSlot.objects.filter(
        public_id=public_id, workspace_id__in=viewer.workspace_ids, deleted_at__isnull=False
    ).first()


def membership_for(viewer: Viewer, public_id, *, role: str, to: str) -> Membership:
    """The viewer's membership of the workspace with this public id (404 if they are not in
    it), where they have at least `role` (403 otherwise)."""
    membership = next(
        (m for m in viewer.memberships if str(m.workspace.public_id) == str(public_id)), None
    )
    if membership is None:
        raise Http404(_("No such workspace."))
    viewer.require(role, membership.workspace_id, to)
    return membership


def workspace_for(viewer: Viewer, public_id, *, role: str, to: str) -> Workspace:
    return membership_for(viewer, public_id, role=role, to=to).workspace


def label_for(viewer: Viewer, public_id, *, to: str) -> Label:
    """A label of one of the viewer's workspaces; changing one is for managers."""
    label = (
        Label.objects.filter(public_id=public_id, workspace_id__in=viewer.workspace_ids)
        .select_related("workspace")
        .first()
    )
    if label is None:
        raise Http404(_("No such label."))
    viewer.require(Role.MANAGER, label.workspace_id, to)
    return label


def project_for(viewer: Viewer, scripe_id: str, *, to: str | None = None) -> Project:
    """A project of the viewer's workspaces, by its Scripe id (a project synced into two of
    them is the older row); with `to`, for managers."""
    project = (
        Project.objects.filter(workspace_id__in=viewer.workspace_ids, scripe_id=scripe_id)
        .select_related("workspace")
        .order_by("pk")
        .first()
    )
    if project is None:
        raise Http404(_("No such project."))
    if to is not None:
        viewer.require(Role.MANAGER, project.workspace_id, to)
    return project


def series_for(viewer: Viewer, public_id, *, to: str | None = None) -> Series:
    series = (
        Series.objects.filter(public_id=public_id, workspace_id__in=viewer.workspace_ids)
        .select_related("workspace", "project", "note")
        .first()
    )
    if series is None:
        raise Http404(_("No such series."))
    if to is not None:
        viewer.require(Role.EDITOR, series.workspace_id, to)
    return series


def bulk_run_for(viewer: Viewer, public_id) -> BulkRun:
    """A bulk run of the viewer's own: anyone else's does not exist for them."""
    run = BulkRun.objects.filter(public_id=public_id, user=viewer.user).first()
    if run is None:
        raise Http404(_("No such bulk action."))
    return run


def review_link_for(viewer: Viewer, public_id) -> ReviewLink:
    """A client review link of a draft in one of the viewer's workspaces."""
    link = (
        ReviewLink.objects.select_related("slot")
        .filter(public_id=public_id, slot__workspace_id__in=viewer.workspace_ids)
        .first()
    )
    if link is None:
        raise Http404(_("No such link."))
    return link


def token_for(viewer: Viewer, public_id) -> ApiToken:
    """An API token the viewer may see and revoke: their own, or one of a workspace they
    administer."""
    token = (
        ApiToken.objects.filter(public_id=public_id)
        .filter(
            Q(user=viewer.user)
            | Q(workspace_id__in=[w.pk for w in viewer.workspaces_with(Role.ADMIN)])
        )
        .select_related("user", "workspace")
        .first()
    )
    if token is None:
        raise Http404(_("No such token."))
    return token


def invitation_for(viewer: Viewer, public_id, *, to: str) -> Invitation:
    """An invitation to one of the viewer's workspaces (404 otherwise); acting on it is for
    managers and admins (403 saying so)."""
    invitation = (
        Invitation.objects.filter(public_id=public_id, workspace_id__in=viewer.workspace_ids)
        .select_related("workspace")
        .first()
    )
    if invitation is None:
        raise Http404("No such invitation.")
    viewer.require(Role.MANAGER, invitation.workspace_id, to)
    return invitation


def member_for(viewer: Viewer, public_id, *, to: str) -> Membership:
    """A membership of one of the viewer's workspaces (404 otherwise); changing one is for
    admins (403 saying so)."""
    membership = (
        Membership.objects.filter(public_id=public_id, workspace_id__in=viewer.workspace_ids)
        .select_related("workspace", "user")
        .first()
    )
    if membership is None:
        raise Http404("No such member.")
    viewer.require(Role.ADMIN, membership.workspace_id, to)
    return membership


def notification_for(viewer: Viewer, public_id) -> Notification:
    """One of the viewer's own notifications, about one of the workspaces they see (a token:
    its own); anyone else's does not exist for them."""
    notification = (
        Notification.objects.filter(
            public_id=public_id, user=viewer.user, workspace_id__in=viewer.workspace_ids
        )
        .select_related("slot")
        .first()
    )
    if notification is None:
        raise Http404(_("No such notification."))
    return notification


def webhook_endpoint_for(viewer: Viewer, public_id) -> WebhookEndpoint:
    """A webhook endpoint of a workspace the viewer administers; to anyone else it does not
    exist (its address and events are the admins' business)."""
    admin_of = [w.pk for w in viewer.workspaces_with(Role.ADMIN)]
    endpoint = (
        WebhookEndpoint.objects.filter(public_id=public_id, workspace_id__in=admin_of)
        .select_related("workspace")
        .first()
    )
    if endpoint is None:
        raise Http404(_("No such webhook endpoint."))
    return endpoint


def webhook_delivery_for(viewer: Viewer, public_id) -> WebhookDelivery:
    """A delivery to an endpoint of a workspace the viewer administers, else 404."""
    admin_of = [w.pk for w in viewer.workspaces_with(Role.ADMIN)]
    delivery = (
        WebhookDelivery.objects.filter(public_id=public_id, endpoint__workspace_id__in=admin_of)
        .select_related("endpoint__workspace")
        .first()
    )
    if delivery is None:
        raise Http404(_("No such delivery."))
    return delivery


def export_for(viewer: Viewer, public_id) -> WorkspaceExport:
    """An export of a workspace the viewer administers; to anyone else, editors and managers
    of the same workspace too, it does not exist (the archive is the whole workspace)."""
    admin_of = [w.pk for w in viewer.workspaces_with(Role.ADMIN)]
    export = (
        WorkspaceExport.objects.filter(public_id=public_id, workspace_id__in=admin_of)
        .select_related("workspace")
        .first()
    )
    if export is None:
        raise Http404("No such export.")
    return export


def idea_for(viewer: Viewer, public_id) -> Idea:
    """An idea (or Scripe suggestion) on the board of one of the viewer's workspaces; the
    services check what their role lets them do with it."""
    idea = (
        Idea.objects.filter(public_id=public_id, workspace_id__in=viewer.workspace_ids)
        .select_related("workspace", "project", "owner", "source")
        .first()
    )
    if idea is None:
        raise Http404(_("No such idea."))
    return idea


class KnowledgeBase(NamedTuple):
    """A knowledge base a viewer may see: a project's, or (project None) the workspace's
    own; `role` is the viewer's there, which decides whether they may add to it."""

    workspace: Workspace
    project: Project | None
    role: str


def knowledge_base_for(viewer: Viewer, *, workspace_id=None, project_id: str = "") -> KnowledgeBase:
    """The knowledge base of a project (by its Scripe id) or of a workspace (by its public
    id) of the viewer's, else 404."""
    if project_id:
        project = project_for(viewer, project_id)
        workspace = project.workspace
    else:
        project = None
        workspace = membership_for(
            viewer, workspace_id, role=Role.EDITOR, to=gettext_noop("see the knowledge base")
        ).workspace
    membership = next(m for m in viewer.memberships if m.workspace_id == workspace.pk)
    return KnowledgeBase(workspace, project, membership.role)


def source_for(viewer: Viewer, public_id, *, to: str | None = None) -> Source:
    """A source (#26) of one of the viewer's workspaces; with `to`, for its editors."""
    source = (
        Source.objects.filter(public_id=public_id, workspace_id__in=viewer.workspace_ids)
        .select_related("workspace", "project", "created_by", "slot")
        .first()
    )
    if source is None:
        raise Http404(_("No such source."))
    if to is not None:
        viewer.require(Role.EDITOR, source.workspace_id, to)
    return source
