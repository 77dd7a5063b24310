"""The Scripe key in the Django admin: write-only, stored encrypted, shown masked, verifiable.

The host project puts `ScripeConnectionInline` on its workspace's admin page, so an admin
sets a workspace's key, base URL and members on one page. A key belongs to the base URL it
was entered for: saving a new base URL without a new key drops the stored key (the model does
it), and the form's `notice` says so for the host's admin to show. A new base URL also starts
with nothing known of whether it answers or of its rate limit (`forget_address`).

Instead of a key, an admin can press "Connect with Scripe" (`ScripeOAuthAdminMixin`): OAuth
2.1 with PKCE; the callback is `views.oauth_callback`. A workspace uses one or the other.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from scripe_integration.contract import ScripeError, oauth_root
from scripe_integration.models import ScripeConnection, validate_base_url, validate_key_format
from scripe_integration.services import (
    OAUTH_CALLBACK_URL_NAME,
    SUBSCRIBED_EVENTS,
    UNREACHABLE_AT_ADDRESS,
    answered_by_scripe,
    connection_for,
    oauth_disconnect,
    oauth_start,
    webhook_health,
    webhook_register,
    webhook_rotate,
    webhooks_off_reason,
)


class ScripeConnectionForm(forms.ModelForm):
    base_url = forms.URLField(
        label="Base URL",
        max_length=300,
        assume_scheme="https",
        help_text="Scripe's API root, e.g. https://api.scripe.io/v1 (an https address on the "
        "public internet), or a local sandbox where the server allows local addresses.",
    )
    new_key = forms.CharField(
        label="API key",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Paste a key to set or replace it (scripe_sk_live_… or scripe_sk_test_…). "
        "Leave empty to keep the current one. It is stored encrypted and never shown again. "
        "A key is only sent to the base URL it was entered for: changing the base URL "
        "without entering a key removes the stored one.",
    )
    # What the admin should be told after saving, beyond "saved".
    notice = ""

    class Meta:
        model = ScripeConnection
        fields = ["base_url"]

    def clean_base_url(self) -> str:
        value = self.cleaned_data["base_url"]
        # Only a new address: one stored before the rule keeps the page savable, and the
        # client refuses to call it anyway (the Reachable row says so).
        if "base_url" in self.changed_data:
            validate_base_url(value)
        return value

    def clean_new_key(self) -> str:
        value = self.cleaned_data["new_key"]
        if value:
            validate_key_format(value)
            if self.instance.uses_oauth:
                raise forms.ValidationError(
                    "This workspace is connected with Scripe (OAuth), so no key is used. "
                    "Press “Disconnect from Scripe” first to use a key instead."
                )
        return value

    def save(self, commit: bool = True) -> ScripeConnection:
        connection = super().save(commit=False)
        before = str(self.initial.get("base_url") or "").rstrip("/")
        if not connection._state.adding and before != connection.base_url.rstrip("/"):
            # Another Scripe: what the old address said of its reachability and rate limit
            # is not known of this one (the Reachable and Rate limit rows start again).
            connection.forget_address()
        if connection.uses_oauth and not connection.oauth_is_for_base_url:
            # Tokens belong to the Scripe that issued them, like a key.
            self.notice = (
                f"The Scripe base URL changed to {connection.base_url}, so the connection with "
                "Scripe made at the previous address was removed. Connect with Scripe again, "
                "or enter an API key."
            )
            connection.forget_oauth()
        if self.cleaned_data.get("new_key"):
            connection.set_key(self.cleaned_data["new_key"], by=getattr(self, "set_by", None))
        elif connection.has_key and not connection.key_is_for_base_url:
            # A key belongs to the Scripe it was entered for: it is never sent elsewhere
            # (scripe_session refuses that too, for rows changed behind the form's back).
            self.notice = (
                f"The Scripe base URL changed to {connection.base_url}, so the stored key "
                f"({connection.masked_key}) was removed: a key is only sent to the address it "
                "was entered for. Enter the key again for the new address."
            )
            connection.forget_key()
        if commit:
            connection.save()
        return connection


class ScripeConnectionInline(admin.StackedInline):
    model = ScripeConnection
    form = ScripeConnectionForm
    can_delete = False
    max_num = 1
    min_num = 1
    verbose_name = "Scripe connection"
    verbose_name_plural = "Scripe connection"
    fields = [
        "connected_by_oauth",
        "new_key",
        "key",
        "key_state_display",
        "verified",
        "base_url",
        "scripe_workspace",
        "reachability",
        "rate_limit_summary",
        "deprecation_summary",
        "webhooks",
    ]
    readonly_fields = [
        "connected_by_oauth",
        "key",
        "key_state_display",
        "verified",
        "scripe_workspace",
        "reachability",
        "rate_limit_summary",
        "deprecation_summary",
        "webhooks",
    ]

    @admin.display(description="Connected with Scripe")
    def connected_by_oauth(self, obj: ScripeConnection) -> str:
        if not obj.uses_oauth:
            return (
                "No: the API key below is used. Press “Connect with Scripe” (above) to connect "
                "by signing in to Scripe instead; that replaces the key."
            )
        who = f" by {obj.oauth_connected_by}" if obj.oauth_connected_by else ""
        when = f" on {obj.oauth_connected_at:%Y-%m-%d %H:%M} UTC" if obj.oauth_connected_at else ""
        name = obj.scripe_workspace_name or obj.scripe_workspace_id or "its default workspace"
        text = f"Yes (OAuth), to Scripe workspace {name}, connected{who}{when}; no key is used."
        if obj.key_state == obj.KeyState.INVALID:
            text += f" Scripe no longer accepts it: {obj.key_problem}"
        return text

    @admin.display(description="Current key")
    def key(self, obj: ScripeConnection) -> str:
        if obj.uses_oauth:
            return "None: the workspace is connected with Scripe (OAuth)."
        if not obj.has_key:
            return "No key yet."
        who = f" by {obj.key_set_by}" if obj.key_set_by else ""
        when = f" on {obj.key_set_at:%Y-%m-%d %H:%M} UTC" if obj.key_set_at else ""
        return f"{obj.masked_key} ({obj.key_mode} key), set{who}{when}"

    @admin.display(description="Key state")
    def key_state_display(self, obj: ScripeConnection) -> str:
        state = obj.get_key_state_display()
        return f"{state}: {obj.key_problem}" if obj.key_error_message else state

    @admin.display(description="Last verified")
    def verified(self, obj: ScripeConnection) -> str:
        return f"{obj.verified_at:%Y-%m-%d %H:%M} UTC" if obj.verified_at else "Never."

    @admin.display(description="Scripe workspace")
    def scripe_workspace(self, obj: ScripeConnection) -> str:
        if not obj.scripe_workspace_id:
            return "Unknown until the key is verified."
        scopes = ", ".join(obj.scopes) or "none"
        name = obj.scripe_workspace_name or obj.scripe_workspace_id
        return f"{name} ({obj.scripe_workspace_id}), {obj.plan} plan; key scopes: {scopes}"

    @admin.display(description="Reachable")
    def reachability(self, obj: ScripeConnection) -> str:
        return obj.reachability_summary

    @admin.display(description="Rate limit")
    def rate_limit_summary(self, obj: ScripeConnection) -> str:
        return obj.rate_limit_summary

    @admin.display(description="Deprecation")
    def deprecation_summary(self, obj: ScripeConnection) -> str:
        return obj.deprecation_summary

    @admin.display(description="Webhooks")
    def webhooks(self, obj: ScripeConnection) -> str:
        off = webhooks_off_reason()
        health = webhook_health(obj)
        if not obj.has_webhook:
            text = off or (
                "Not registered: polling keeps the calendar current. Register webhooks (the "
                "button above) and Scripe tells the calendar about changes within seconds."
            )
            # Something is delivering to this workspace's address all the same.
            return f"{text} {health.refusals_sentence()}" if health.refused else text
        text = (
            f"Endpoint {obj.webhook_endpoint_id} at {obj.webhook_url}, secret "
            f"{obj.webhook_secret_hint} (set {obj.webhook_secret_set_at:%Y-%m-%d %H:%M} UTC)."
        )
        until = obj.previous_webhook_secret_until
        if obj.encrypted_previous_webhook_secret and until:
            text += f" The previous secret verifies until {until:%Y-%m-%d %H:%M} UTC."
        # Registered is not heard: say what arrived, what was refused and why.
        text = f"{text} {health.sentence()}"
        return f"{text} {off}" if off else text


class ScripeWebhookAdminMixin:
    """For the ModelAdmin of the model that owns connections (the host's workspace): buttons
    that register the owner's webhook endpoint with Scripe and rotate its secret. They are
    POST only, need the change permission, and find the owner through the admin's own
    `get_queryset`, so whatever limits the host puts on it (its admins' workspaces) holds:
    an owner outside it is a 404, as for Verify."""

    def get_urls(self):
        opts = self.opts
        name = f"{opts.app_label}_{opts.model_name}_scripe_webhook"
        register = self.admin_site.admin_view(require_POST(self.scripe_webhook_register_view))
        rotate = self.admin_site.admin_view(require_POST(self.scripe_webhook_rotate_view))
        return [
            path("<int:pk>/webhook/register/", register, name=f"{name}_register"),
            path("<int:pk>/webhook/rotate/", rotate, name=f"{name}_rotate"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "scripe_webhooks_off": webhooks_off_reason(),
            "scripe_webhook_events": ", ".join(SUBSCRIBED_EVENTS),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def scripe_webhook_register_view(self, request: HttpRequest, pk: int):
        return self._scripe_webhook_call(request, pk, webhook_register)

    def scripe_webhook_rotate_view(self, request: HttpRequest, pk: int):
        return self._scripe_webhook_call(request, pk, webhook_rotate)

    def _scripe_webhook_call(self, request: HttpRequest, pk: int, service) -> HttpResponseRedirect:
        owner = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, owner):
            raise PermissionDenied
        done, message = service(workspace=owner)
        level = messages.SUCCESS if done else messages.ERROR
        self.message_user(request, f"{owner}: {message}", level)
        opts = self.opts
        change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk])
        return HttpResponseRedirect(change)


# The session key under which a started connection waits for Scripe's answer.
OAUTH_SESSION_KEY = "scripe_oauth"


def oauth_redirect_uri(request: HttpRequest) -> str:
    """The callback address registered with Scripe: under PUBLIC_BASE_URL when it is set (the
    address Scripe's users reach this app at), else the address of this request."""
    callback = reverse(OAUTH_CALLBACK_URL_NAME)
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL + callback
    return request.build_absolute_uri(callback)


def allow_form_action(policy: str, origin: str) -> str:
    """The policy with `origin` added to its form-action directive (when it has one)."""
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(origin))
    if any(c in origin for c in ";, '\"") or not origin.startswith(("http://", "https://")):
        return policy
    directives = [d.strip() for d in policy.split(";")]
    return "; ".join(
        f"{d} {origin}" if d.split(" ", 1)[0] == "form-action" else d for d in directives
    )


class ScripeOAuthAdminMixin:
    """For the ModelAdmin of the model that owns connections: "Connect with Scripe" and
    "Disconnect from Scripe" buttons (POST only, change permission, the owner found through
    the admin's own `get_queryset`, so an owner outside it is a 404). Connecting keeps the
    PKCE verifier and the `state` in the session and sends the browser to Scripe; Scripe
    sends it back to `views.oauth_callback`, which checks that admin again."""

    def get_urls(self):
        opts = self.opts
        name = f"{opts.app_label}_{opts.model_name}_scripe_oauth"
        connect = self.admin_site.admin_view(require_POST(self.scripe_oauth_connect_view))
        disconnect = self.admin_site.admin_view(require_POST(self.scripe_oauth_disconnect_view))
        return [
            path("<int:pk>/scripe/connect/", connect, name=f"{name}_connect"),
            path("<int:pk>/scripe/disconnect/", disconnect, name=f"{name}_disconnect"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        # "Connect with Scripe" posts here and is redirected to Scripe's authorize page; a
        # Content-Security-Policy's form-action covers that redirect too, so the page allows
        # the origin of the workspace's own Scripe (an address the destination rule let in).
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", "")
        connection = ScripeConnection.objects.filter(workspace__pk=object_id).first()
        if policy and connection and "Content-Security-Policy" not in response:
            origin = oauth_root(connection.base_url)
            response["Content-Security-Policy"] = allow_form_action(policy, origin)
        return response

    def _scripe_owner(self, request: HttpRequest, pk: int):
        owner = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, owner):
            raise PermissionDenied
        return owner

    def scripe_change_url(self, pk: int) -> str:
        opts = self.opts
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk])

    def scripe_oauth_connect_view(self, request: HttpRequest, pk: int):
        owner = self._scripe_owner(request, pk)
        connection = connection_for(owner)
        if connection.base_url_refused:
            self.message_user(
                request, f"{owner}: {connection.reachability_summary}", messages.ERROR
            )
            return HttpResponseRedirect(self.scripe_change_url(pk))
        redirect_uri = oauth_redirect_uri(request)
        try:
            started = oauth_start(workspace=owner, redirect_uri=redirect_uri)
        except ScripeError as error:
            why = error.message if answered_by_scripe(error) else UNREACHABLE_AT_ADDRESS
            self.message_user(
                request, f"{owner}: Could not start connecting with Scripe: {why}", messages.ERROR
            )
            return HttpResponseRedirect(self.scripe_change_url(pk))
        request.session[OAUTH_SESSION_KEY] = {
            "state": started.state,
            "verifier": started.code_verifier,
            "owner": owner.pk,
            "base_url": connection.base_url,
            "redirect_uri": redirect_uri,
        }
        return HttpResponseRedirect(started.authorize_url)

    def scripe_oauth_disconnect_view(self, request: HttpRequest, pk: int):
        owner = self._scripe_owner(request, pk)
        done, message = oauth_disconnect(workspace=owner)
        level = messages.SUCCESS if done else messages.ERROR
        self.message_user(request, f"{owner}: {message}", level)
        return HttpResponseRedirect(self.scripe_change_url(pk))
