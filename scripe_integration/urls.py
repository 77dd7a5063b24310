"""The library's own addresses: the OAuth callback Scripe sends admins back to. The host
project includes these (`path("scripe/", include("scripe_integration.urls"))`)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from scripe_integration import views
from scripe_integration.services import OAUTH_CALLBACK_URL_NAME

urlpatterns = [
    # Behind the admin's login: only a staff member who started connecting gets this far.
    path(
        "oauth/callback/",
        admin.site.admin_view(views.oauth_callback),
        name=OAUTH_CALLBACK_URL_NAME,
    ),
]
