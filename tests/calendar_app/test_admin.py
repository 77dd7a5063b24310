"""The Django admin, scoped: a staff user who administers workspace A (Acme) sees and changes
only A's objects; workspace B (Globex) does not exist for them, as in the rest of the app.
Superusers see everything. Scoping comes on top of Django's model permissions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.utils import timezone
from django_q.models import OrmQ, Schedule, Task

from calendar_app.models import (
    GenerationJob,
    Invitation,
    Membership,
    PlannedSlot,
    Profile,
    Workspace,
)


def grant(user, *actions: str) -> None:
    """Django model permissions (view, change, add, delete) on every model of both apps."""
    codenames = [f"{action}_" for action in actions]
    perms = Permission.objects.filter(
        content_type__app_label__in=["calendar_app", "scripe_integration"]
    )
    user.user_permissions.set([p for p in perms if p.codename.startswith(tuple(codenames))])


@pytest.fixture
def staff(team):
    """Ada: staff, admin of Acme, with every model permission, not a superuser."""
    grant(team.admin, "view", "change", "add", "delete")
    return team.admin


@pytest.fixture
def places(team) -> dict:
    """One object of each kind in Acme (a) and in Globex (b)."""
    when = timezone.now() + timedelta(days=3)
    a_slot = team.slot(when)
    b_slot = team.slot(when, project=team.foreign_project)
    return {
        "workspace": (team.workspace, team.other_workspace),
        "membership": (
            Membership.objects.get(user=team.admin),
            Membership.objects.get(user=team.outsider),
        ),
        "project": (team.project, team.foreign_project),
        "plannedslot": (a_slot, b_slot),
        "sourcenote": (a_slot.note, b_slot.note),
        "generationjob": (
            GenerationJob.objects.create(slot=a_slot, idempotency_key="acme-1"),
            GenerationJob.objects.create(slot=b_slot, idempotency_key="globex-1"),
        ),
        "profile": (
            Profile.objects.create(user=team.admin),
            Profile.objects.create(user=team.outsider),
        ),
        "invitation": (
            Invitation.objects.create(workspace=team.workspace, email="a@x.com", token_hash="a"),
            Invitation.objects.create(
                workspace=team.other_workspace, email="b@x.com", token_hash="b"
            ),
        ),
    }


MODELS = ["workspace", "membership", "project", "plannedslot", "sourcenote", "generationjob"]
MODELS += ["profile", "invitation"]
# Generation attempts and invitations are read-only for everyone (people invite on the team
# page), so only these can be changed at all.
CHANGEABLE = [model for model in MODELS if model not in ("generationjob", "invitation")]


def listed(client, model: str) -> set[int]:
    response = client.get(f"/admin/calendar_app/{model}/")
    assert response.status_code == 200
    return {obj.pk for obj in response.context["cl"].result_list}


def change_url(obj) -> str:
    return f"/admin/calendar_app/{obj._meta.model_name}/{obj.pk}/change/"


# listing, opening, changing ----------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_staff_of_a_lists_only_a(client, staff, places, model):
    a, b = places[model]
    client.force_login(staff)
    shown = listed(client, model)
    assert a.pk in shown
    assert b.pk not in shown


@pytest.mark.parametrize("model", MODELS)
def test_staff_of_a_can_open_a(client, staff, places, model):
    a, _ = places[model]
    client.force_login(staff)
    assert client.get(change_url(a)).status_code == 200


@pytest.mark.parametrize("model", MODELS)
def test_staff_of_a_cannot_open_b(client, staff, places, model):
    _, b = places[model]
    client.force_login(staff)
    response = client.get(change_url(b))
    # Django's answer for an object that does not exist: back to the index, with a message.
    assert (response.status_code, response["Location"]) == (302, "/admin/")


@pytest.mark.parametrize("model", CHANGEABLE)
def test_staff_of_a_cannot_change_b(client, staff, places, model):
    _, b = places[model]
    before = type(b).objects.filter(pk=b.pk).values().get()
    client.force_login(staff)
    data = {"name": "Taken", "text": "Taken", "role": "editor", "time_zone": "UTC"}
    response = client.post(change_url(b), data)
    assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert type(b).objects.filter(pk=b.pk).values().get() == before


@pytest.mark.parametrize("model", MODELS)
def test_staff_of_a_cannot_delete_b(client, team, staff, places, model):
    _, b = places[model]
    if model not in ("plannedslot", "generationjob"):
        # Nothing in B may protect the object, or the delete would fail for that reason.
        PlannedSlot.objects.filter(workspace=team.other_workspace).delete()
    client.force_login(staff)
    client.post(f"/admin/calendar_app/{model}/{b.pk}/delete/", {"post": "yes"})
    assert type(b).objects.filter(pk=b.pk).exists()


@pytest.mark.parametrize("model", MODELS)
def test_a_superuser_lists_both(client, team, places, model):
    a, b = places[model]
    team.admin.is_superuser = True
    team.admin.save()
    client.force_login(team.admin)
    assert {a.pk, b.pk} <= listed(client, model)


def test_a_staff_user_who_administers_nothing_lists_nothing(client, team, places):
    grant(team.manager, "view", "change")
    team.manager.is_staff = True
    team.manager.save()
    client.force_login(team.manager)
    assert listed(client, "plannedslot") == set()


def test_the_workspace_filter_names_only_a(client, staff, places):
    client.force_login(staff)
    html = client.get("/admin/calendar_app/project/").content.decode()
    assert "Acme" in html
    assert "Globex" not in html


# choices -----------------------------------------------------------------------------------------


def test_a_memberships_workspace_can_only_be_a(client, staff, places):
    client.force_login(staff)
    form = client.get("/admin/calendar_app/membership/add/").context["adminform"].form
    assert list(form.fields["workspace"].queryset) == [places["workspace"][0]]


def test_staff_of_a_cannot_add_themselves_to_b_with_the_membership_admin(client, team, staff):
    client.force_login(staff)
    data = {"user": staff.pk, "workspace": team.other_workspace.pk, "role": "admin"}
    response = client.post("/admin/calendar_app/membership/add/", data)
    assert response.status_code == 200
    assert "workspace" in response.context["adminform"].form.errors
    assert not Membership.objects.filter(user=staff, workspace=team.other_workspace).exists()


def test_staff_of_a_cannot_add_themselves_to_b_through_bs_page(client, team, staff):
    client.force_login(staff)
    b = team.other_workspace
    data = {
        "name": b.name,
        "time_zone": "UTC",
        "scripe-TOTAL_FORMS": "0",
        "scripe-INITIAL_FORMS": "0",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "0",
        "memberships-0-user": str(staff.pk),
        "memberships-0-workspace": str(b.pk),
        "memberships-0-role": "admin",
    }
    client.post(f"/admin/calendar_app/workspace/{b.pk}/change/", data)
    assert not Membership.objects.filter(user=staff, workspace=b).exists()


def test_slots_are_planned_in_the_calendar_not_in_the_admin(client, team, staff, places):
    """The admin would skip the planning rules (an active project of the same workspace, a
    time far enough ahead): it shows slots, it does not plan or re-plan them."""
    client.force_login(staff)
    a_slot, b_slot = places["plannedslot"]
    assert client.get("/admin/calendar_app/plannedslot/add/").status_code == 403
    data = {
        "project": b_slot.project_id,
        "note": b_slot.note_id,
        "scheduled_for_0": "2020-01-01",
        "scheduled_for_1": "10:00:00",
    }
    client.post(change_url(a_slot), data)
    a_slot.refresh_from_db()
    assert (a_slot.project_id, a_slot.note_id) == (team.project.pk, a_slot.note.pk)
    assert a_slot.scheduled_for.year != 2020


def test_a_notes_author_is_shown_not_chosen_from_every_user(client, team, staff, places):
    client.force_login(staff)
    html = client.get(change_url(places["sourcenote"][0])).content.decode()
    assert "erin" in html
    assert "olga" not in html


def test_a_profiles_user_can_only_be_a_member_of_a(client, team, staff):
    client.force_login(staff)
    form = client.get("/admin/calendar_app/profile/add/").context["adminform"].form
    users = set(form.fields["user"].queryset)
    assert team.editor in users
    assert team.outsider not in users


def test_a_projects_workspace_can_only_be_a(client, team, staff):
    client.force_login(staff)
    form = client.get(change_url(team.project)).context["adminform"].form
    assert set(form.fields["workspace"].queryset) == {team.workspace}


# workspaces themselves ---------------------------------------------------------------------------


def test_only_superusers_add_workspaces(client, team, staff):
    client.force_login(staff)
    assert client.get("/admin/calendar_app/workspace/add/").status_code == 403
    staff.is_superuser = True
    staff.save()
    assert client.get("/admin/calendar_app/workspace/add/").status_code == 200


def test_only_superusers_delete_workspaces(client, team, staff):
    client.force_login(staff)
    url = f"/admin/calendar_app/workspace/{team.workspace.pk}/delete/"
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert Workspace.objects.filter(pk=team.workspace.pk).exists()


# the verify button and action --------------------------------------------------------------------


def verify_url(workspace) -> str:
    return f"/admin/calendar_app/workspace/{workspace.pk}/verify-key/"


def test_view_only_staff_get_403_from_the_verify_button(client, team, sandbox):
    sandbox.wire(team.workspace)
    grant(team.admin, "view")
    client.force_login(team.admin)
    assert client.post(verify_url(team.workspace)).status_code == 403
    assert sandbox.stats()["requestsTotal"] == 0


def test_view_only_staff_are_not_shown_the_verify_button(client, team):
    grant(team.admin, "view")
    client.force_login(team.admin)
    html = client.get(change_url(team.workspace)).content.decode()
    assert "Verify key with Scripe" not in html


def test_view_only_staff_are_not_offered_the_verify_keys_action(client, team):
    grant(team.admin, "view")
    client.force_login(team.admin)
    html = client.get("/admin/calendar_app/workspace/").content.decode()
    assert 'value="verify_keys"' not in html


def test_view_only_staff_cannot_run_the_verify_keys_action(client, team, sandbox):
    sandbox.wire(team.workspace)
    grant(team.admin, "view")
    client.force_login(team.admin)
    data = {"action": "verify_keys", "_selected_action": [team.workspace.pk]}
    client.post("/admin/calendar_app/workspace/", data)
    assert sandbox.stats()["requestsTotal"] == 0


def test_staff_of_a_cannot_verify_bs_key(client, team, staff, sandbox):
    sandbox.wire(team.other_workspace)
    client.force_login(staff)
    assert client.post(verify_url(team.other_workspace)).status_code == 404
    assert sandbox.stats()["requestsTotal"] == 0


def test_staff_of_a_can_verify_as_key(client, team, staff, sandbox):
    sandbox.wire(team.workspace)
    client.force_login(staff)
    response = client.post(verify_url(team.workspace), follow=True)
    assert "Acme: The key works" in response.content.decode()


def test_the_verify_keys_action_skips_b(client, team, staff, sandbox):
    sandbox.wire(team.other_workspace)
    client.force_login(staff)
    data = {"action": "verify_keys", "_selected_action": [team.other_workspace.pk]}
    client.post("/admin/calendar_app/workspace/", data)
    assert sandbox.stats()["requestsTotal"] == 0


def test_verify_needs_post(client, team, staff):
    client.force_login(staff)
    assert client.get(verify_url(team.workspace)).status_code == 405


# accounts ----------------------------------------------------------------------------------------


OLD_PASSWORD = "old horse battery"
NEW_PASSWORD = "new staple battery"


@pytest.fixture
def user_staff(team):
    """Ada with every permission on the calendar's models and Django's own on accounts, as a
    site might grant a team admin (deleting an account deletes its memberships too)."""
    grant(team.admin, "view", "change", "add", "delete")
    perms = Permission.objects.filter(
        content_type__app_label="auth",
        codename__in=["view_user", "change_user", "delete_user", "add_user"],
    )
    team.admin.user_permissions.add(*perms)
    return team.admin


def account(team, kind: str):
    """An account Ada, admin of Acme only, may or may not manage. Each kind below but the
    last is out of her reach for one reason alone."""
    User = get_user_model()
    if kind == "superuser":  # a member of Acme, but the site's superuser
        user = User.objects.create_superuser("root", "root@example.com", OLD_PASSWORD)
    elif kind == "other staff":  # a member of Acme, but staff like Ada
        user = User.objects.create_user("stan", password=OLD_PASSWORD, is_staff=True)
    elif kind == "in no workspace":
        return User.objects.create_user("nina", password=OLD_PASSWORD)
    elif kind == "also in globex":
        user = User.objects.create_user("sam", password=OLD_PASSWORD)
        Membership.objects.create(user=user, workspace=team.other_workspace)
    else:  # "member of acme only": hers to manage
        user = User.objects.create_user("dora", password=OLD_PASSWORD)
    Membership.objects.create(user=user, workspace=team.workspace)
    return user


OUT_OF_REACH = ["superuser", "other staff", "in no workspace", "also in globex"]


def user_url(user, view: str = "change") -> str:
    return f"/admin/auth/user/{user.pk}/{view}/"


def change_data(user) -> dict:
    """The user change form as the browser posts it, with a new first name and every site-wide
    power ticked."""
    return {
        "username": user.username,
        "first_name": "Taken",
        "last_name": "",
        "email": "",
        "is_active": "on",
        "is_superuser": "on",
        "is_staff": "on",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }


PASSWORD_DATA = {
    "usable_password": "true",
    "password1": NEW_PASSWORD,
    "password2": NEW_PASSWORD,
}

# Each account page, as a request a scoped admin could send.
ACCOUNT_VIEWS = {
    "change GET": lambda client, user: client.get(user_url(user)),
    "change POST": lambda client, user: client.post(user_url(user), change_data(user)),
    "password GET": lambda client, user: client.get(user_url(user, "password")),
    "password POST": lambda client, user: client.post(user_url(user, "password"), PASSWORD_DATA),
    "delete GET": lambda client, user: client.get(user_url(user, "delete")),
    "delete POST": lambda client, user: client.post(user_url(user, "delete"), {"post": "yes"}),
    "history": lambda client, user: client.get(user_url(user, "history")),
}


def row(user) -> dict:
    """Everything stored about an account, password hash included; None once it is gone."""
    return get_user_model().objects.filter(pk=user.pk).values().first()


def listed_accounts(client) -> set[int]:
    response = client.get("/admin/auth/user/")
    assert response.status_code == 200
    return {user.pk for user in response.context["cl"].result_list}


@pytest.mark.parametrize("kind", OUT_OF_REACH)
def test_a_workspace_admin_does_not_list_an_account_out_of_reach(client, team, user_staff, kind):
    target = account(team, kind)
    client.force_login(user_staff)
    shown = listed_accounts(client)
    assert target.pk not in shown
    assert team.editor.pk in shown  # a member of Acme alone
    assert team.outsider.pk not in shown  # Globex's


@pytest.mark.parametrize("view", ACCOUNT_VIEWS)
@pytest.mark.parametrize("kind", OUT_OF_REACH)
def test_a_workspace_admin_cannot_open_change_or_delete_an_account_out_of_reach(
    client, team, user_staff, kind, view
):
    target = account(team, kind)
    before = row(target)
    client.force_login(user_staff)
    response = ACCOUNT_VIEWS[view](client, target)
    # Django's answers for an account that does not exist: a 404, or back to the index (a
    # change or a deletion would go elsewhere). A 403 would do too.
    assert response.status_code in (403, 404) or response["Location"] == "/admin/", view
    assert row(target) == before
    assert get_user_model().objects.get(pk=target.pk).check_password(OLD_PASSWORD)


@pytest.mark.parametrize("view", ACCOUNT_VIEWS)
def test_a_workspace_admin_still_manages_an_account_only_in_their_workspace(
    client, team, user_staff, view
):
    target = account(team, "member of acme only")
    client.force_login(user_staff)
    assert target.pk in listed_accounts(client)
    response = ACCOUNT_VIEWS[view](client, target)
    after = row(target)
    if view.endswith("GET") or view == "history":
        assert response.status_code == 200
        return
    assert response.status_code == 302
    assert response["Location"] != "/admin/"
    if view == "change POST":
        assert after["first_name"] == "Taken"
        assert not after["is_superuser"] and not after["is_staff"]
    elif view == "password POST":
        assert get_user_model().objects.get(pk=target.pk).check_password(NEW_PASSWORD)
    else:
        assert after is None


@pytest.mark.parametrize("kind", [*OUT_OF_REACH, "member of acme only"])
def test_the_delete_action_deletes_only_accounts_in_reach(client, team, user_staff, kind):
    target = account(team, kind)
    client.force_login(user_staff)
    data = {"action": "delete_selected", "_selected_action": [target.pk], "post": "yes"}
    client.post("/admin/auth/user/", data)
    assert (row(target) is None) == (kind == "member of acme only")


def test_a_workspace_admin_changes_their_own_password_on_the_password_change_page(
    client, team, user_staff
):
    """Ada is staff, so her own account is out of reach in the accounts pages too (it may be
    in other workspaces); her password is hers to change where every user changes theirs."""
    team.admin.set_password(OLD_PASSWORD)
    team.admin.save()
    client.force_login(user_staff)
    assert team.admin.pk not in listed_accounts(client)
    data = {
        "old_password": OLD_PASSWORD,
        "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD,
    }
    response = client.post("/admin/password_change/", data)
    assert response.status_code == 302
    team.admin.refresh_from_db()
    assert team.admin.check_password(NEW_PASSWORD)


@pytest.mark.parametrize("kind", ["in no workspace", "superuser", "other staff"])
def test_a_workspace_admin_cannot_bring_an_account_into_reach_through_a_membership(
    client, team, user_staff, kind
):
    """A crafted POST naming someone outside her reach as a new member of Acme, on the
    Membership page and on the workspace page, is refused: once a member of Acme only, their
    password would be hers to set (#24)."""
    User = get_user_model()
    if kind == "in no workspace":
        target = account(team, kind)
    elif kind == "superuser":
        target = User.objects.create_superuser("root", "root@example.com", OLD_PASSWORD)
    else:
        target = User.objects.create_user("stan", password=OLD_PASSWORD, is_staff=True)
    client.force_login(user_staff)
    data = {"user": target.pk, "workspace": team.workspace.pk, "role": "editor"}
    response = client.post("/admin/calendar_app/membership/add/", data)
    assert response.status_code == 200
    assert "user" in response.context["adminform"].form.errors
    page = {
        "name": team.workspace.name,
        "time_zone": team.workspace.time_zone,
        "scripe-TOTAL_FORMS": "0",
        "scripe-INITIAL_FORMS": "0",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "0",
        "memberships-0-user": str(target.pk),
        "memberships-0-workspace": str(team.workspace.pk),
        "memberships-0-role": "editor",
    }
    client.post(f"/admin/calendar_app/workspace/{team.workspace.pk}/change/", page)
    assert not Membership.objects.filter(user=target, workspace=team.workspace).exists()
    client.post(user_url(target, "password"), PASSWORD_DATA)
    target.refresh_from_db()
    assert target.check_password(OLD_PASSWORD)


def test_a_workspace_admin_moves_a_member_of_theirs_between_their_workspaces(
    client, team, user_staff
):
    # Two-factor off: this is about memberships (an admin of a new workspace must enrol first).
    second = Workspace.objects.create(
        name="Acme Labs", time_zone="UTC", require_two_factor_admins=False
    )
    Membership.objects.create(user=user_staff, workspace=second, role="admin")
    member = account(team, "member of acme only")
    client.force_login(user_staff)
    data = {"user": member.pk, "workspace": second.pk, "role": "editor"}
    response = client.post("/admin/calendar_app/membership/add/", data)
    assert response.status_code == 302
    assert Membership.objects.filter(user=member, workspace=second).exists()


def test_only_a_superuser_adds_an_account(client, team, user_staff):
    """An account in no workspace is nobody's but the site's: one a workspace admin made would
    be out of their reach the moment it was saved."""
    client.force_login(user_staff)
    assert client.get("/admin/auth/user/add/").status_code == 403
    data = {"username": "newbie", "usable_password": "false"}
    assert client.post("/admin/auth/user/add/", data).status_code == 403
    assert not get_user_model().objects.filter(username="newbie").exists()


@pytest.mark.parametrize("kind", OUT_OF_REACH)
def test_a_superuser_manages_every_account(client, team, kind):
    target = account(team, kind)
    root = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(root)
    assert target.pk in listed_accounts(client)
    response = client.post(user_url(target, "password"), PASSWORD_DATA)
    assert response.status_code == 302
    assert get_user_model().objects.get(pk=target.pk).check_password(NEW_PASSWORD)


def test_a_workspace_admin_cannot_make_anyone_superuser_or_staff(client, team, user_staff):
    client.force_login(user_staff)
    url = f"/admin/auth/user/{team.editor.pk}/change/"
    form = client.get(url).context["adminform"].form
    assert not {"is_superuser", "is_staff", "groups", "user_permissions"} & set(form.fields)
    data = {
        "username": "erin",
        "first_name": "Erin",
        "last_name": "",
        "email": "",
        "is_active": "on",
        "is_superuser": "on",
        "is_staff": "on",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    response = client.post(url, {**data, "first_name": "Erin Renamed"})
    assert response.status_code == 302  # saved: the form was valid, only those fields ignored
    team.editor.refresh_from_db()
    assert team.editor.first_name == "Erin Renamed"
    assert not team.editor.is_superuser and not team.editor.is_staff


# pages of the whole site -------------------------------------------------------------------------

NOW = timezone.now()
# The task queue, log-in attempts and groups of permissions reach past every workspace.
SITE_PAGES = {
    "auth/group": lambda: Group.objects.create(name="Editors"),
    "django_q/schedule": lambda: Schedule.objects.create(func="math.floor"),
    "django_q/success": lambda: Task.objects.create(
        id="a" * 32, name="done", func="math.floor", started=NOW, stopped=NOW, success=True
    ),
    "django_q/failure": lambda: Task.objects.create(
        id="b" * 32, name="failed", func="math.floor", started=NOW, stopped=NOW, success=False
    ),
    "django_q/ormq": lambda: OrmQ.objects.create(key="scripe-calendar", payload="x", lock=NOW),
    "axes/accessattempt": lambda: AccessAttempt.objects.create(
        username="erin",
        ip_address="203.0.113.7",
        user_agent="x",
        http_accept="*/*",
        path_info="/accounts/login/",
        attempt_time=NOW,
        failures_since_start=3,
    ),
    "axes/accesslog": lambda: AccessLog.objects.create(
        username="erin",
        ip_address="203.0.113.7",
        user_agent="x",
        http_accept="*/*",
        path_info="/accounts/login/",
        attempt_time=NOW,
    ),
    "axes/accessfailurelog": lambda: AccessFailureLog.objects.create(
        username="erin",
        ip_address="203.0.113.7",
        user_agent="x",
        http_accept="*/*",
        path_info="/accounts/login/",
        attempt_time=NOW,
        locked_out=False,
    ),
}


@pytest.fixture
def site_staff(team):
    """Ada, admin of Acme, with every model permission there is, and still not a superuser."""
    team.admin.user_permissions.set(Permission.objects.all())
    return team.admin


def test_a_workspace_admin_is_offered_none_of_the_sites_own_pages(client, site_staff):
    client.force_login(site_staff)
    apps = {app["app_label"]: app for app in client.get("/admin/").context["app_list"]}
    assert "calendar_app" in apps
    site_apps = {"django_q", "axes", "account", "mfa", "socialaccount", "usersessions"}
    assert not site_apps & set(apps)
    assert [model["object_name"] for model in apps["auth"]["models"]] == ["User"]
    for app in site_apps:
        assert client.get(f"/admin/{app}/").status_code == 404


@pytest.mark.parametrize("page", SITE_PAGES)
def test_a_workspace_admin_gets_403_on_every_url_of_the_sites_own_pages(client, site_staff, page):
    obj = SITE_PAGES[page]()
    before = type(obj).objects.filter(pk=obj.pk).values().get()
    client.force_login(site_staff)
    base = f"/admin/{page}/"
    assert client.get(base).status_code == 403
    assert client.get(f"{base}add/").status_code == 403
    assert client.get(f"{base}{obj.pk}/change/").status_code == 403
    assert client.post(f"{base}{obj.pk}/change/", {"name": "Taken"}).status_code == 403
    assert client.get(f"{base}{obj.pk}/history/").status_code == 403
    assert client.post(f"{base}{obj.pk}/delete/", {"post": "yes"}).status_code == 403
    action = {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"}
    assert client.post(base, action).status_code == 403
    assert type(obj).objects.filter(pk=obj.pk).values().get() == before


@pytest.mark.parametrize("page", SITE_PAGES)
def test_a_superuser_has_the_sites_own_pages(client, team, page):
    obj = SITE_PAGES[page]()
    root = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(root)
    assert client.get(f"/admin/{page}/").status_code == 200
    assert client.get(f"/admin/{page}/{obj.pk}/change/").status_code == 200


def test_a_slots_page_shows_a_note_the_app_wrote_as_its_readers_read_it(client, staff, team):
    slot = team.slot(timezone.now() + timedelta(days=3), status="approving")
    slot.unscheduled_by("Max Weber")
    client.force_login(staff)
    page = client.get(change_url(slot)).content.decode()
    assert "Unscheduled by Max Weber: approve it again, or reject it." in page
    assert "%(who)s" not in page and 'name="status_note_params"' not in page
