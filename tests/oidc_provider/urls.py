"""The test provider's addresses: its log-in page and django-oauth-toolkit's under /o/."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.urls import include, path

urlpatterns = [
    # Browsers ask for it; a 404 would read as a failure in the browser journeys' logs.
    path("favicon.ico", lambda request: HttpResponse(status=204)),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
]
