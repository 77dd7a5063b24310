"""The site's addresses: the calendar's own, the account pages (django-allauth), the Django
admin, the Scripe library's OAuth callback and /metrics for Prometheus."""

from __future__ import annotations

from allauth.account import views as account_views
from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from calendar_app.assistants.endpoint import mcp_endpoint
from calendar_app.urls import sso_login_patterns
from config.metrics import metrics_view

admin.site.site_header = f"{settings.PRODUCT_NAME} admin"
admin.site.site_title = settings.PRODUCT_NAME
# The admin's own log-in form would skip the second factor and allauth's flow: it sends to the
# app's log-in page instead (throttled, with two factors), and back.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    # allauth's log-in and log-out under the names the templates use ({% url 'login' %});
    # its own names (account_login, account_logout) reverse to the same addresses.
    path("accounts/login/", account_views.login, name="login"),
    path("accounts/logout/", account_views.logout, name="logout"),
    # Single sign-on's log-in (#28): allauth's, with a failing provider said on the log-in page.
    path("accounts/oidc/", include(sso_login_patterns)),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    # The REST API (#27): /api/v1/…, its schema and docs.
    path("api/", include("calendar_app.api.urls")),
    # The MCP server for AI assistants (#27), with the same tokens.
    path("mcp/", mcp_endpoint, name="mcp"),
    path("scripe/", include("scripe_integration.urls")),
    # Without a slash: what Prometheus asks for by default (METRICS_TOKEN, config/metrics.py).
    path("metrics", metrics_view, name="metrics"),
    # The German sentences of static/js (#30), as gettext() for the modules (static/js/i18n.js).
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("", include("calendar_app.urls")),
]
