from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from calendar_app import views

admin.site.site_header = f"{settings.PRODUCT_NAME} admin"
admin.site.site_title = settings.PRODUCT_NAME

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    # Pages without our <link rel="icon"> (the admin) make browsers ask for /favicon.ico.
    path("favicon.ico", views.favicon),
]
