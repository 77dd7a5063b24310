"""Fixtures for the API's tests: a client that sends a token, and tokens for the team."""

from __future__ import annotations

import pytest
from django.test import Client

from calendar_app.access import viewer_of
from calendar_app.accounts.tokens import token_create


class Api:
    """The test client, speaking JSON with a token."""

    def __init__(self, secret: str | None) -> None:
        self.client = Client()
        self.secret = secret

    def _headers(self, headers: dict | None) -> dict:
        base = {"Authorization": f"Bearer {self.secret}"} if self.secret else {}
        return {**base, **(headers or {})}

    def get(self, path: str, data=None, headers=None):
        return self.client.get(path, data, headers=self._headers(headers))

    def post(self, path: str, data=None, headers=None):
        return self.client.post(
            path, data or {}, content_type="application/json", headers=self._headers(headers)
        )

    def patch(self, path: str, data=None, headers=None):
        return self.client.patch(
            path, data or {}, content_type="application/json", headers=self._headers(headers)
        )

    def delete(self, path: str, headers=None):
        return self.client.delete(path, headers=self._headers(headers))


def make_token(user, workspace, scopes=("read", "plan"), name="CRM sync", days=30):
    return token_create(
        viewer=viewer_of(user),
        workspace=workspace,
        name=name,
        scopes=list(scopes),
        expires_in_days=days,
    )


@pytest.fixture(autouse=True)
def _api_cache(settings):
    # One cache per test: counts of one test never reach the next.
    settings.CACHES = {
        **settings.CACHES,
        "api": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "api"},
    }
    from django.core.cache import caches

    caches["api"].clear()


@pytest.fixture
def api_for(team):
    """An API client for a person of the team, with a token of the scopes their role allows
    (or those given)."""

    def make(user, scopes=None, workspace=None):
        from calendar_app.accounts.tokens import scopes_allowed
        from calendar_app.models import Membership

        workspace = workspace or team.workspace
        role = Membership.objects.get(user=user, workspace=workspace).role
        made = make_token(user, workspace, scopes=scopes or scopes_allowed(role))
        return Api(made.secret)

    return make


@pytest.fixture
def editor_api(team, api_for) -> Api:
    return api_for(team.editor)


@pytest.fixture
def manager_api(team, api_for) -> Api:
    return api_for(team.manager)


@pytest.fixture
def outsider_api(team, api_for) -> Api:
    return api_for(team.outsider, workspace=team.other_workspace)
