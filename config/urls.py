"""The site's addresses: the calendar's own, the log-in pages, the Django admin and the
Scripe library's OAuth callback."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

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
    path("scripe/", include("scripe_integration.urls")),
    path("", include("calendar_app.urls")),
]
