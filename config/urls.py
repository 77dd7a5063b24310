"""The site's addresses: the calendar's own, the log-in pages, the Django admin and the
Scripe library's OAuth callback."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from calendar_app.assistants.endpoint import mcp_endpoint

admin.site.site_header = f"{settings.PRODUCT_NAME} admin"
admin.site.site_title = settings.PRODUCT_NAME

urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    # The REST API (#27): /api/v1/…, its schema and docs.
    path("api/", include("calendar_app.api.urls")),
    # The MCP server for AI assistants (#27), with the same tokens.
    path("mcp/", mcp_endpoint, name="mcp"),
    path("scripe/", include("scripe_integration.urls")),
    # The German sentences of static/js (#30), as gettext() for the modules (static/js/i18n.js).
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("", include("calendar_app.urls")),
]
