"""Every URL and action, for every role, inside and outside the workspace.

Outsiders get 404 for anything of another workspace (it does not exist for them); members
without the role get 403 with a plain sentence; anonymous users are sent to log in. A hidden
button is not a permission check, so every action is tried directly.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

OK = "ok"  # any success: 200, 204 or a redirect to somewhere other than the login page
LOGIN = "login"
ROLES = ["editor", "manager", "admin", "outsider"]


def fresh_objects(team) -> dict:
    """New objects for every try, so one role's delete does not decide the next role's."""
    slot = team.slot(timezone.now() + timedelta(days=3))
    failed = team.slot(timezone.now() + timedelta(days=4), status="failed")
    return {"slot": slot.public_id, "failed": failed.public_id, "ws": team.workspace.public_id}


@pytest.fixture
def objects(team):
    return fresh_objects(team)


# (method, url template, expected per role: editor, manager, admin, outsider)
PAGES = [
    ("get", "/", [OK, OK, OK, OK]),
    ("get", "/calendar/2026/12/", [OK, OK, OK, OK]),
    ("get", "/calendar/week/2026-12-07/", [OK, OK, OK, OK]),
    ("get", "/calendar/day/2026-12-07/", [OK, OK, OK, OK]),
    ("get", "/slots/", [OK, OK, OK, OK]),
    ("get", "/slots/new/", [OK, OK, OK, OK]),
    ("get", "/slots/picker/?month=2026-12", [OK, OK, OK, OK]),
    ("get", "/slots/live/?cards={slot}", [OK, OK, OK, OK]),
    ("get", "/projects/", [OK, OK, OK, OK]),
    ("get", "/settings/", [OK, OK, OK, OK]),
]
OBJECT_ACTIONS = [
    ("get", "/slots/{slot}/", [OK, OK, OK, 404]),
    ("get", "/slots/{slot}/edit/", [OK, OK, OK, 404]),
    ("post", "/slots/{slot}/move/", [OK, OK, OK, 404]),
    ("post", "/slots/{failed}/generate/", [OK, OK, OK, 404]),
    ("post", "/slots/{slot}/cancel/", [OK, OK, OK, 404]),
    ("post", "/slots/{slot}/delete/", [OK, OK, OK, 404]),
    ("post", "/projects/sync/{ws}/", [403, OK, OK, 404]),
]


def outcome(response) -> object:
    if response.status_code in (301, 302):
        return LOGIN if "/login/" in response["Location"] else OK
    if response.status_code in (200, 204, 286, 409, 422):
        # 409/422: the action was allowed and refused on its merits (e.g. nothing to cancel)
        return OK
    return response.status_code


def data_for(url: str) -> dict:
    return (
        {"date": (timezone.now() + timedelta(days=6)).strftime("%Y-%m-%d")} if "move" in url else {}
    )


@pytest.mark.parametrize(("method", "url", "expected"), PAGES + OBJECT_ACTIONS)
def test_each_role_gets_what_it_may(client, team, method, url, expected):
    for role, want in zip(ROLES, expected, strict=True):
        target = url.format(**fresh_objects(team))
        client.force_login(getattr(team, role))
        response = getattr(client, method)(target, data_for(target))
        assert outcome(response) == want, f"{role} {method.upper()} {url}: {response.status_code}"


@pytest.mark.parametrize(("method", "url", "expected"), PAGES + OBJECT_ACTIONS)
def test_anonymous_users_are_sent_to_log_in(client, objects, method, url, expected):
    url = url.format(**objects)
    assert outcome(getattr(client, method)(url)) == LOGIN


def test_a_refused_role_gets_a_plain_sentence(client, team, objects):
    client.force_login(team.editor)
    response = client.post(f"/projects/sync/{objects['ws']}/")
    assert response.status_code == 403
    assert "Only a manager can sync projects." in response.content.decode()


def test_an_outsider_gets_the_friendly_404(client, team, objects):
    client.force_login(team.outsider)
    response = client.get(f"/slots/{objects['slot']}/")
    assert response.status_code == 404


def test_the_admin_site_is_for_staff_only(client, team):
    for role in ("editor", "manager", "outsider"):
        client.force_login(getattr(team, role))
        assert outcome(client.get("/admin/")) == LOGIN
    client.force_login(team.admin)
    assert client.get("/admin/").status_code == 200


def test_django_q_pages_are_in_the_admin(client, team):
    team.admin.is_superuser = True
    team.admin.save()
    client.force_login(team.admin)
    for model in ("ormq", "failure", "schedule", "success"):
        assert client.get(f"/admin/django_q/{model}/").status_code == 200, model
