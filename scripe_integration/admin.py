"""The Scripe key in the Django admin: write-only, stored encrypted, shown masked, verifiable.

The connection is edited inline on its workspace (calendar_app.admin), so an admin sets a
workspace's key, base URL and members on one page.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

from django import forms
from django.contrib import admin
from django.utils import timezone

from scripe_integration.models import GenerationJob, ScripeConnection, validate_key_format

# Daily AI-spend caps by plan, in cents (Scripe's docs); a generation costs about 5 cents.
PLAN_CAP_CENTS = {"SOLO": 500, "ADVANCED": 2000, "BUSINESS": 5000}
GENERATION_CENTS = 5


class ScripeConnectionForm(forms.ModelForm):
    base_url = forms.URLField(
        label="Base URL",
        max_length=300,
        assume_scheme="https",
        help_text="Scripe's API root, e.g. https://api.scripe.io/v1, or a local sandbox.",
    )
    new_key = forms.CharField(
        label="API key",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Paste a key to set or replace it (scripe_sk_live_… or scripe_sk_test_…). "
        "Leave empty to keep the current one. It is stored encrypted and never shown again.",
    )

    class Meta:
        model = ScripeConnection
        fields = ["base_url"]

    def clean_new_key(self) -> str:
        value = self.cleaned_data["new_key"]
        if value:
            validate_key_format(value)
        return value

    def save(self, commit: bool = True) -> ScripeConnection:
        connection = super().save(commit=False)
        if self.cleaned_data.get("new_key"):
            connection.set_key(self.cleaned_data["new_key"], by=getattr(self, "set_by", None))
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
        "new_key",
        "key",
        "key_state_display",
        "verified",
        "base_url",
        "scripe_workspace",
        "rate_limit_summary",
        "spend_today",
        "deprecation_summary",
    ]
    readonly_fields = [
        "key",
        "key_state_display",
        "verified",
        "scripe_workspace",
        "rate_limit_summary",
        "spend_today",
        "deprecation_summary",
    ]

    @admin.display(description="Current key")
    def key(self, obj: ScripeConnection) -> str:
        if not obj.has_key:
            return "No key yet."
        who = f" by {obj.key_set_by}" if obj.key_set_by else ""
        when = f" on {obj.key_set_at:%Y-%m-%d %H:%M} UTC" if obj.key_set_at else ""
        return f"{obj.masked_key} ({obj.key_mode} key), set{who}{when}"

    @admin.display(description="Key state")
    def key_state_display(self, obj: ScripeConnection) -> str:
        state = obj.get_key_state_display()
        return f"{state}: {obj.key_error_message}" if obj.key_error_message else state

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

    @admin.display(description="Rate limit")
    def rate_limit_summary(self, obj: ScripeConnection) -> str:
        return obj.rate_limit_summary

    @admin.display(description="Spend today (UTC)")
    def spend_today(self, obj: ScripeConnection) -> str:
        if not obj.pk:
            return "-"
        midnight = datetime.combine(timezone.now().astimezone(UTC).date(), time(0), tzinfo=UTC)
        count = GenerationJob.objects.filter(
            slot__workspace_id=obj.workspace_id, accepted_at__gte=midnight
        ).count()
        spent = count * GENERATION_CENTS
        cap = PLAN_CAP_CENTS.get(obj.plan)
        cap_text = f" of the {obj.plan} plan's {cap}¢ daily cap" if cap else ""
        text = f"{count} generation{'s' if count != 1 else ''}, about {spent}¢{cap_text}."
        if obj.spend_cap_meta:
            meta = obj.spend_cap_meta
            text += (
                f" Scripe refused a generation on {meta.get('bucketDate')}: cap reached "
                f"({meta.get('spentCents')} of {meta.get('capCents')}¢)."
            )
        return text

    @admin.display(description="Deprecation")
    def deprecation_summary(self, obj: ScripeConnection) -> str:
        return obj.deprecation_summary


@admin.register(GenerationJob)
class GenerationJobAdmin(admin.ModelAdmin):
    """Read-only history of generation attempts, for support."""

    list_display = ["slot", "attempt", "scripe_job_id", "scripe_status", "polls", "scripe_calls"]
    list_filter = ["scripe_status", "finished", "stalled"]
    search_fields = ["scripe_job_id", "post_id", "error_code"]
    exclude = ["idempotency_key"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
