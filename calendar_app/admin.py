"""Workspaces, their members and their Scripe connection, on one admin page.

Every change made here lands in Django's admin log (who, when, what), which is how member and
role changes are recorded.

A staff user sees and changes only the workspaces they administer (Membership role admin), and
only those workspaces' objects; anything else is missing for them, as in the rest of the app.
The pages that reach past every workspace (the task queue, log-in attempts, groups) are for
superusers only. Superusers see everything. This comes on top of Django's model permissions,
never instead.
"""

from __future__ import annotations

# Imported for their registrations: their apps come after this one in INSTALLED_APPS, and their
# pages are made superuser-only below (SITE_ONLY).
import allauth.account.admin
import allauth.mfa.admin
import allauth.socialaccount.admin
import allauth.usersessions.admin  # noqa: F401
import axes.admin  # noqa: F401
import django_q.admin  # noqa: F401
from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from calendar_app.access import viewer_for
from calendar_app.accounts import sso
from calendar_app.core.refusals import Refusal
from calendar_app.models import (
    GenerationJob,
    Invitation,
    Label,
    Membership,
    PlannedSlot,
    Profile,
    Project,
    Role,
    SingleSignOn,
    Source,
    SourceNote,
    Workspace,
)
from calendar_app.pipeline.spend import spend_today
from calendar_app.portability.services import workspace_contents, workspace_delete
from scripe_integration.admin import (
    ScripeConnectionInline,
    ScripeOAuthAdminMixin,
    ScripeWebhookAdminMixin,
)
from scripe_integration.models import ScripeConnection
from scripe_integration.services import key_verify

# The key field of the inline form: never in an error report's POST dump.
hide_key = method_decorator(sensitive_post_parameters("scripe-0-new_key"))


# How each model reaches the workspace it belongs to.
WORKSPACE_PATHS: dict[type[Model], str] = {
    Workspace: "pk",
    Membership: "workspace",
    Project: "workspace",
    SourceNote: "workspace",
    PlannedSlot: "workspace",
    GenerationJob: "slot__workspace",
    Label: "workspace",
    Source: "workspace",
    Invitation: "workspace",
    SingleSignOn: "workspace",
    Profile: "user__memberships__workspace",
    get_user_model(): "memberships__workspace",
}


def administered_workspace_ids(request: HttpRequest) -> list[int] | None:
    """The workspaces the user administers; None for a superuser, who has them all."""
    if request.user.is_superuser:
        return None
    return [w.pk for w in viewer_for(request).workspaces_with(Role.ADMIN)]


def in_administered_workspaces(request: HttpRequest, queryset: QuerySet) -> QuerySet:
    """The rows of `queryset` that belong to a workspace the user administers."""
    ids = administered_workspace_ids(request)
    if ids is None:
        return queryset
    path = WORKSPACE_PATHS[queryset.model]
    if "__" not in path:
        return queryset.filter(**{f"{path}__in": ids})
    # Through a many-valued relation (a user's memberships) a row would repeat once per
    # workspace: ask by pk instead.
    inside = queryset.model._default_manager.filter(**{f"{path}__in": ids}).values("pk")
    return queryset.filter(pk__in=inside)


def accounts_in_reach(request: HttpRequest, users: QuerySet) -> QuerySet:
    """The accounts a workspace admin may manage (a superuser, all): people whose every
    membership is in a workspace they administer, never a superuser or another staff user,
    and never an account in no workspace, which is the site's (#24)."""
    ids = administered_workspace_ids(request)
    if ids is None:
        return users
    members = Membership.objects.filter(workspace_id__in=ids).values("user_id")
    elsewhere = Membership.objects.exclude(workspace_id__in=ids).values("user_id")
    return users.filter(pk__in=members, is_superuser=False, is_staff=False).exclude(
        pk__in=elsewhere
    )


def scoped_choices(db_field, request: HttpRequest, kwargs: dict) -> dict:
    """A foreign key's choices for a workspace admin: what they may see, and nothing else."""
    model = db_field.related_model
    if "queryset" in kwargs:
        return kwargs
    if model is get_user_model():
        return {**kwargs, "queryset": accounts_in_reach(request, model._default_manager.all())}
    if model in WORKSPACE_PATHS:
        choices = model._default_manager.all()
        return {**kwargs, "queryset": in_administered_workspaces(request, choices)}
    return kwargs


class AdministeredWorkspacesOnly:
    """For a ModelAdmin: only rows of the workspaces the user administers are listed, opened
    (anything else is "doesn't exist", as Django says for a missing object), changed or
    deleted, and every foreign-key choice is limited the same way: workspaces, projects, notes
    and slots to those workspaces, people to the accounts in reach (`accounts_in_reach`), so a
    crafted POST cannot bring anyone else into a workspace and so into reach (#24)."""

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return in_administered_workspaces(request, super().get_queryset(request))

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        return super().formfield_for_foreignkey(
            db_field, request, **scoped_choices(db_field, request, kwargs)
        )


# A list filter by workspace offers only the workspaces of the rows the user may see.
BY_WORKSPACE = ("workspace", admin.RelatedOnlyFieldListFilter)


class WorkspaceScripeInline(ScripeConnectionInline):
    """The library's key inline, plus what the workspace's generations cost today."""

    fields = [*ScripeConnectionInline.fields, "spend_today"]
    readonly_fields = [*ScripeConnectionInline.readonly_fields, "spend_today"]

    @admin.display(description="Spend today (UTC)")
    def spend_today(self, obj: ScripeConnection) -> str:
        # The insights page's figures, so the two never disagree.
        if not obj.pk:
            return "-"
        workspace = obj.workspace
        workspace.scripe = obj
        spend = spend_today([workspace])[workspace.pk]
        return f"{spend.figures} {spend.sentence}"


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]
    verbose_name = _("member")

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        # The workspace page's members pick people the same way as the Membership page.
        return super().formfield_for_foreignkey(
            db_field, request, **scoped_choices(db_field, request, kwargs)
        )


@admin.register(Workspace)
class WorkspaceAdmin(
    ScripeOAuthAdminMixin, ScripeWebhookAdminMixin, AdministeredWorkspacesOnly, admin.ModelAdmin
):
    list_display = [
        "name",
        "time_zone",
        "review_required",
        "no_self_approval",
        "key_state",
        "masked_key",
        "members",
    ]
    search_fields = ["name"]
    inlines = [WorkspaceScripeInline, MembershipInline]
    actions = ["verify_keys", "delete_with_everything"]
    change_form_template = "admin/calendar_app/workspace/change_form.html"

    def get_queryset(self, request: HttpRequest):
        return (
            super().get_queryset(request).select_related("scripe").prefetch_related("memberships")
        )

    @admin.display(description="Scripe key")
    def key_state(self, obj: Workspace) -> str:
        scripe = getattr(obj, "scripe", None)
        return scripe.get_key_state_display() if scripe else "No key"

    @admin.display(description="Key")
    def masked_key(self, obj: Workspace) -> str:
        scripe = getattr(obj, "scripe", None)
        if scripe and scripe.uses_oauth:
            return "Connected with Scripe (OAuth)"
        return scripe.masked_key if scripe and scripe.has_key else "-"

    @admin.display(description="Members")
    def members(self, obj: Workspace) -> int:
        return len(obj.memberships.all())

    @hide_key
    def add_view(self, request, form_url="", extra_context=None):
        return super().add_view(request, form_url, extra_context)

    @hide_key
    def change_view(self, request, object_id, form_url="", extra_context=None):
        return super().change_view(request, object_id, form_url, extra_context)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def save_formset(self, request, form, formset, change) -> None:
        for inline_form in formset.forms:
            inline_form.set_by = request.user
        super().save_formset(request, form, formset, change)
        for inline_form in formset.forms:
            if getattr(inline_form, "notice", ""):
                notice = f"{form.instance}: {inline_form.notice}"
                self.message_user(request, notice, messages.WARNING)

    def get_urls(self):
        verify = self.admin_site.admin_view(require_POST(self.verify_view))
        return [
            path("<int:pk>/verify-key/", verify, name="calendar_app_workspace_verify_key"),
            *super().get_urls(),
        ]

    def verify_view(self, request: HttpRequest, pk: int) -> HttpResponseRedirect:
        workspace = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, workspace):
            raise PermissionDenied
        self._verify(request, workspace)
        return HttpResponseRedirect(reverse("admin:calendar_app_workspace_change", args=[pk]))

    @admin.action(description="Verify the Scripe key", permissions=["change"])
    def verify_keys(self, request: HttpRequest, queryset) -> None:
        for workspace in queryset:
            self._verify(request, workspace)

    def _verify(self, request: HttpRequest, workspace: Workspace) -> None:
        works, message = key_verify(workspace=workspace)
        level = messages.SUCCESS if works else messages.ERROR
        self.message_user(request, f"{workspace.name}: {message}", level)

    def has_operator_permission(self, request: HttpRequest) -> bool:
        # Deleting a workspace with everything in it is the site operator's (#29), not a
        # workspace admin's: they may leave the workspace but not erase their colleagues' work.
        return request.user.is_superuser

    @admin.action(
        description=gettext_lazy("Delete with everything in it (posts, files, queued tasks)"),
        permissions=["operator"],
    )
    def delete_with_everything(self, request: HttpRequest, queryset):
        """First a page listing what goes (counts by kind); confirmed, the deletion."""
        workspaces = list(queryset)
        if request.POST.get("confirmed") == "yes":
            for workspace in workspaces:
                name = workspace.name
                deletion = workspace_delete(workspace=workspace)
                posts = deletion.counts.get("posts", 0)
                self.message_user(
                    request,
                    gettext("%(name)s deleted: %(posts)s posts, %(rows)s rows, %(files)s files.")
                    % {
                        "name": name,
                        "posts": posts,
                        "rows": sum(deletion.counts.values()),
                        "files": deletion.files_removed,
                    },
                    messages.SUCCESS,
                )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Delete workspaces with everything in them?"),
            "opts": self.model._meta,
            "action_name": "delete_with_everything",
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "contents": [(w, workspace_contents(w)) for w in workspaces],
        }
        return TemplateResponse(
            request, "admin/calendar_app/workspace/delete_everything.html", context
        )


@admin.register(Project)
class ProjectAdmin(AdministeredWorkspacesOnly, admin.ModelAdmin):
    list_display = ["name", "workspace", "scripe_id", "type", "status", "synced_at"]
    list_filter = [BY_WORKSPACE, "status", "type"]
    search_fields = ["name", "scripe_id"]
    readonly_fields = ["scripe_id", "type", "status", "linkedin_url", "synced_at"]


@admin.register(PlannedSlot)
class PlannedSlotAdmin(AdministeredWorkspacesOnly, admin.ModelAdmin):
    """Slots for support: seen here, planned and changed in the calendar, where the planning
    rules and the status transitions live. Only a deletion can be undone here."""

    list_display = ["scheduled_for", "project", "status", "workspace", "created_by"]
    list_filter = ["status", BY_WORKSPACE]
    search_fields = ["note__text", "project__name"]
    readonly_fields = [
        "workspace",
        "project",
        "note",
        "scheduled_for",
        "status",
        "status_changed_at",
        "status_note_shown",
        "created_by",
    ]
    # The note as its readers read it: a note the app wrote keeps its values apart.
    exclude = ["status_note"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Label)
class LabelAdmin(AdministeredWorkspacesOnly, admin.ModelAdmin):
    """Labels (#15); managers also keep them on the Labels page. The slots carrying one are
    set from the slot form, not here (a workspace may have thousands)."""

    list_display = ["name", "colour", "workspace"]
    list_filter = [BY_WORKSPACE]
    search_fields = ["name"]
    fields = ["workspace", "name", "colour"]


@admin.register(SourceNote)
class SourceNoteAdmin(AdministeredWorkspacesOnly, admin.ModelAdmin):
    list_display = ["excerpt", "workspace", "language", "author", "created_at"]
    list_filter = [BY_WORKSPACE, "language"]
    search_fields = ["text"]
    # Who wrote it is history, not a choice (and may have left the workspace since).
    readonly_fields = ["author"]


@admin.register(Membership)
class MembershipAdmin(AdministeredWorkspacesOnly, admin.ModelAdmin):
    list_display = ["user", "workspace", "role", "created_at"]
    list_filter = [BY_WORKSPACE, "role"]
    autocomplete_fields = ["user"]


@admin.register(Invitation)
class InvitationAdmin(AdministeredWorkspacesOnly, admin.ModelAdmin):
    """For operators to see who was invited where; people invite (and resend, revoke) on the
    team page, which sends the email and keeps the link's secret out of every table."""

    list_display = ["email", "workspace", "role", "state", "invited_by", "sent_at", "expires_at"]
    list_filter = [BY_WORKSPACE, "state", "role"]
    search_fields = ["email"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class SingleSignOnAdminForm(forms.ModelForm):
    """The provider with its secret write-only: typed to set or replace it, never shown."""

    # Judged by the destination rule (sso_validate), not Django's URL syntax alone.
    issuer_url = forms.CharField(max_length=500, label="Issuer URL")
    client_secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Stored encrypted, never shown. Leave empty to keep the stored one.",
    )

    class Meta:
        model = SingleSignOn
        fields = [
            "workspace",
            "label",
            "issuer_url",
            "client_id",
            "client_secret",
            "allowed_domains",
            "new_member_role",
            "enabled",
            "sso_only",
        ]

    def clean(self):
        data = super().clean()
        try:
            # The app's one check, so the admin and the settings page agree.
            sso.sso_validate(
                label=data.get("label") or "",
                issuer_url=data.get("issuer_url") or "",
                client_id=data.get("client_id") or "",
                allowed_domains=data.get("allowed_domains") or "",
                new_member_role=data.get("new_member_role") or "",
                client_secret=data.get("client_secret") or "",
                has_secret=bool(self.instance.pk),
                enabled=bool(data.get("enabled")),
                sso_only=bool(data.get("sso_only")),
            )
        except Refusal as refusal:
            for field, message in refusal.fields.items():
                self.add_error(field if field in self.fields else None, message)
        return data


@admin.register(SingleSignOn)
class SingleSignOnAdmin(AdministeredWorkspacesOnly, admin.ModelAdmin):
    form = SingleSignOnAdminForm
    list_display = ["label", "workspace", "issuer_url", "enabled", "sso_only", "new_member_role"]
    list_filter = ["enabled", "sso_only"]

    @method_decorator(sensitive_post_parameters("client_secret"))
    def changeform_view(self, *args, **kwargs):
        return super().changeform_view(*args, **kwargs)

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        saved = sso.sso_save(
            workspace=data["workspace"],
            label=data["label"],
            issuer_url=data["issuer_url"],
            client_id=data["client_id"],
            client_secret=data.get("client_secret") or "",
            allowed_domains=data["allowed_domains"],
            new_member_role=data["new_member_role"],
            enabled=data["enabled"],
            sso_only=data["sso_only"],
        )
        obj.pk, obj.public_id = saved.pk, saved.public_id


@admin.register(Profile)
class ProfileAdmin(AdministeredWorkspacesOnly, admin.ModelAdmin):
    """Profiles of the members of the workspaces the user administers."""


@admin.register(GenerationJob)
class GenerationJobAdmin(AdministeredWorkspacesOnly, admin.ModelAdmin):
    """Read-only history of generation attempts, for support."""

    list_display = ["slot", "attempt", "scripe_job_id", "scripe_status", "polls", "scripe_calls"]
    list_filter = ["scripe_status", "finished", "stalled"]
    search_fields = ["scripe_job_id", "post_id", "error_code"]
    exclude = ["idempotency_key"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Source)
class SourceAdmin(AdministeredWorkspacesOnly, admin.ModelAdmin):
    """Read-only history of sources sent to Scripe (#26), for support. The presigned upload
    URL is left out: it lets anyone holding it write the upload until it expires."""

    list_display = ["name", "workspace", "kind", "status", "scripe_job_id", "scripe_calls"]
    list_filter = [BY_WORKSPACE, "kind", "status"]
    search_fields = ["scripe_job_id", "scripe_source_id", "upload_id", "error_code"]
    exclude = ["upload_url", "topics", "lease_until", "dispatched_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class WorkspaceUserAdmin(UserAdmin):
    """Accounts, for a workspace admin: only people whose every membership is in a workspace
    they administer, since changing a password or a name reaches every workspace the person is
    in. Never a superuser or another staff user (their accounts reach the whole site, or other
    workspaces' admin pages), and never an account in no workspace, which is nobody's but the
    site's (so only a superuser adds accounts). A staff user changes their own password on the
    admin's "Change password" page, like anyone. What gives power over the whole site
    (superuser, staff, groups, permissions) only a superuser changes."""

    SITE_WIDE = ("is_superuser", "is_staff", "groups", "user_permissions")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # Every account page (list, change, password, delete, history, actions) finds its
        # account here: one outside it "doesn't exist" there, as for any other model.
        return accounts_in_reach(request, super().get_queryset(request))

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A new account is in no workspace, so out of a workspace admin's reach once saved.
        return request.user.is_superuser and super().has_add_permission(request)

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return fields if request.user.is_superuser else [*fields, *self.SITE_WIDE]


class SuperusersOnly:
    """For a ModelAdmin of a page that reaches past every workspace: a staff user who is not a
    superuser gets no module and a 403 on each of its URLs, whatever model permissions they
    were given."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser and super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)


# django-q2's tasks (any workspace's, with their arguments), axes' log-in attempts (anyone's,
# and deleting one unlocks it), groups (permissions for anyone) and allauth's email addresses,
# second factors, sessions and social accounts and apps (anyone's, with secrets): the site's,
# not a workspace's.
SITE_ONLY = [Group, *apps.get_app_config("django_q").get_models()]
SITE_ONLY += apps.get_app_config("axes").get_models()
for label in ("account", "mfa", "socialaccount", "usersessions"):
    SITE_ONLY += apps.get_app_config(label).get_models()
for model in SITE_ONLY:
    if admin.site.is_registered(model):
        model_admin = type(admin.site.get_model_admin(model))
        admin.site.unregister(model)
        admin.site.register(model, type(model_admin.__name__, (SuperusersOnly, model_admin), {}))
