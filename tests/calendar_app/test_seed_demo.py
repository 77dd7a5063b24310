"""seed_demo, which `make run` runs on every start: it adds what is missing and leaves the
rest, and the demo workspace follows the Scripe that `make run` points at."""

from __future__ import annotations

import wave
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from calendar_app.models import Membership, PlannedSlot, Project, Role, Source, Workspace
from scripe_integration.sandbox import DEFAULT_TEST_KEY
from scripe_integration.services import connection_for

pytestmark = pytest.mark.django_db


def seed(settings, sandbox) -> str:
    settings.SCRIPE_API_BASE_URL = sandbox.base_url
    out = StringIO()
    call_command("seed_demo", stdout=out, stderr=out)
    return out.getvalue()


def demo_workspace() -> Workspace:
    return Workspace.objects.get(name="Demo Team")


def test_it_creates_the_logins_the_workspace_its_projects_and_posts(settings, sandbox):
    output = seed(settings, sandbox)
    User = get_user_model()
    for username, role in [("editor", Role.EDITOR), ("manager", Role.MANAGER)]:
        user = User.objects.get(username=username)
        assert user.check_password("demo") and not user.is_staff
        assert Membership.objects.get(user=user, workspace=demo_workspace()).role == role
    admin = User.objects.get(username="admin")
    assert admin.check_password("demo") and admin.is_staff and admin.is_superuser
    connection = connection_for(demo_workspace())
    assert connection.base_url == sandbox.base_url
    assert connection.api_key == DEFAULT_TEST_KEY
    assert Project.objects.filter(workspace=demo_workspace()).count() == 3
    assert PlannedSlot.objects.filter(workspace=demo_workspace()).count() == 4
    assert "Could not sync" not in output
    # Sources to try (#26): a recording and a document, and files to upload by hand.
    kinds = sorted(Source.objects.filter(workspace=demo_workspace()).values_list("kind", flat=True))
    assert kinds == ["file", "text"]
    recording = Source.objects.get(workspace=demo_workspace(), kind="file")
    with wave.open(recording.local_path) as audio:
        assert 1 <= audio.getnframes() / audio.getframerate() <= 10
    assert "founder-memo.wav" in output and "product-notes.pdf" in output


def test_the_demo_sources_are_in_a_project_with_a_posting_schedule(settings, sandbox):
    """Their hooks are planned at the project's next queue times: without a schedule, the
    showcase would refuse every new user."""
    from calendar_app.planning.queue import first_free

    seed(settings, sandbox)
    seed(settings, sandbox)
    projects = {s.project for s in Source.objects.filter(workspace=demo_workspace())}
    assert len(projects) == 1
    project = projects.pop()
    # The sandbox's founder: LinkedIn connected, so approved posts are scheduled.
    assert project.name == "Lena Fischer"
    assert project.is_active and project.schedule_times.exists()
    assert first_free(project) is not None


def test_a_second_run_keeps_passwords_sessions_and_roles(settings, sandbox, client):
    seed(settings, sandbox)
    User = get_user_model()
    editor = User.objects.get(username="editor")
    editor.set_password("my own password")
    editor.save()
    membership = Membership.objects.get(user__username="manager")
    membership.role = Role.ADMIN
    membership.save()
    response = client.post("/accounts/login/", {"login": "admin", "password": "demo"})
    assert response.status_code == 302 and client.get("/").status_code == 200

    seed(settings, sandbox)

    assert User.objects.get(username="editor").check_password("my own password")
    assert Membership.objects.get(user__username="manager").role == Role.ADMIN
    assert client.get("/").status_code == 200  # still logged in, not sent to the login page
    assert User.objects.filter(username__in=["editor", "manager", "admin"]).count() == 3
    assert PlannedSlot.objects.filter(workspace=demo_workspace()).count() == 4


def test_it_adds_a_missing_login_and_its_membership(settings, sandbox):
    seed(settings, sandbox)
    get_user_model().objects.get(username="manager").delete()
    seed(settings, sandbox)
    manager = get_user_model().objects.get(username="manager")
    assert manager.check_password("demo")
    assert Membership.objects.get(user=manager, workspace=demo_workspace()).role == Role.MANAGER


def test_a_run_on_another_sandbox_moves_the_demo_workspace_there(settings, sandbox_factory, team):
    first, second = sandbox_factory(), sandbox_factory()
    other = connection_for(team.workspace)
    other.base_url = "https://api.scripe.io/v1"
    other.save()
    seed(settings, first)

    output = seed(settings, second)

    connection = connection_for(demo_workspace())
    assert connection.base_url == second.base_url != first.base_url
    assert connection.api_key == DEFAULT_TEST_KEY
    assert connection.key_set_by == get_user_model().objects.get(username="admin")
    assert second.stats()["requests"].get("GET /v1/projects", 0) >= 1
    assert "Could not sync" not in output
    # Only the demo workspace follows make run's sandbox.
    assert connection_for(team.workspace).base_url == "https://api.scripe.io/v1"


def test_a_run_on_the_same_sandbox_leaves_the_key_alone(settings, sandbox):
    seed(settings, sandbox)
    set_at = connection_for(demo_workspace()).key_set_at
    seed(settings, sandbox)
    assert connection_for(demo_workspace()).key_set_at == set_at


def test_it_adds_a_handful_of_ideas_once_and_scripes_suggestions(settings, sandbox_factory):
    from calendar_app.models import Idea

    sandbox = sandbox_factory(suggestions_per_project=2)
    seed(settings, sandbox)
    seed(settings, sandbox)
    ideas = Idea.objects.filter(workspace=demo_workspace())
    assert ideas.filter(scripe_post_id="").count() == 5
    # Two for each of the three projects.
    assert ideas.exclude(scripe_post_id="").count() == 6
