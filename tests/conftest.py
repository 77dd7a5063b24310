from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from scripe_integration.client import ScripeClient
from scripe_integration.sandbox import ALL_SCOPES, DEFAULT_TEST_KEY, Config, Sandbox

FAST = (0.3, 0.5)


class RunningSandbox:
    """A sandbox on a free port, with helpers that use its HTTP control surface."""

    def __init__(self, sandbox: Sandbox, key: str) -> None:
        self.sandbox = sandbox
        self.key = key
        self.base_url = sandbox.base_url
        self.root_url = sandbox.root_url

    def client(self, key: str | None = None, **kwargs) -> ScripeClient:
        # The sandbox listens on 127.0.0.1, over plain http: a local address.
        kwargs.setdefault("allow_local_hosts", True)
        return ScripeClient(self.base_url, key or self.key, **kwargs)

    def stats(self) -> dict:
        return httpx.get(f"{self.root_url}/_sandbox/stats").json()

    def fault(self, route: str, **spec) -> None:
        response = httpx.post(f"{self.root_url}/_sandbox/faults", json={"route": route, **spec})
        response.raise_for_status()

    def patch_project(self, project_id: str, **changes) -> None:
        url = f"{self.root_url}/_sandbox/projects/{project_id}"
        httpx.patch(url, json=changes).raise_for_status()

    def wire(self, workspace) -> RunningSandbox:
        """Points the workspace's Scripe connection at this sandbox, with its key."""
        from scripe_integration.services import connection_for

        connection = connection_for(workspace)
        connection.base_url = self.base_url
        connection.set_key(self.key)
        connection.save()
        return self

    def fail_next_jobs(self, count: int = 1, code: str = "provider_error") -> None:
        url = f"{self.root_url}/_sandbox/job-failures"
        httpx.post(url, json={"count": count, "code": code}).raise_for_status()

    def dashboard_edit(self, post_id: str, **changes) -> dict:
        """What a person does to a post in Scripe's own dashboard: `title`, `content`,
        `scheduledAt` (an ISO time, or None to unschedule)."""
        response = httpx.patch(f"{self.root_url}/_sandbox/posts/{post_id}", json=changes)
        response.raise_for_status()
        return response.json()["data"]

    def dashboard_delete(self, post_id: str) -> None:
        httpx.delete(f"{self.root_url}/_sandbox/posts/{post_id}").raise_for_status()

    def fail_next_publish(self, post_id: str, code: str = "linkedin_error") -> None:
        url = f"{self.root_url}/_sandbox/posts/{post_id}/publish-failure"
        httpx.post(url, json={"code": code}).raise_for_status()

    def queue_for(self, seconds: float) -> None:
        """Jobs made from now on wait this long in QUEUED (where a cancel still lands)."""
        self.sandbox.state.config.queue_seconds = seconds

    def revoke(self, key: str) -> None:
        httpx.post(f"{self.root_url}/_sandbox/keys/revoke", json={"key": key}).raise_for_status()


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., RunningSandbox]]:
    """Starts sandboxes with the given Config fields; fast, failure-free jobs by default."""
    started: list[Sandbox] = []

    def start(**overrides) -> RunningSandbox:
        options = {
            "keys": {DEFAULT_TEST_KEY: ALL_SCOPES},
            "generation_seconds": FAST,
            "knowledge_seconds": FAST,
            "queue_seconds": 0.2,
            "failure_rate": 0.0,
            "seed": 7,
            # Scripe's suggestions (#26) only where a test asks for them.
            "suggestions_per_project": 0,
            **overrides,
        }
        sandbox = Sandbox(Config(**options)).start()
        started.append(sandbox)
        return RunningSandbox(sandbox, next(iter(options["keys"])))

    yield start
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def sandbox(sandbox_factory) -> RunningSandbox:
    return sandbox_factory()


# The people and places most tests need ---------------------------------------------------------


class Team:
    """An editor, a manager and an admin of one workspace, and an outsider from another."""

    def __init__(self) -> None:
        from django.contrib.auth import get_user_model

        from calendar_app.models import Membership, Project, Role, Workspace

        User = get_user_model()
        # Two-factor is off: the tests that sign in through the form are not about it
        # (tests/calendar_app/accounts/test_two_factor.py turns it on).
        self.workspace = Workspace.objects.create(
            name="Acme", time_zone="Europe/Berlin", require_two_factor_admins=False
        )
        self.other_workspace = Workspace.objects.create(
            name="Globex", time_zone="UTC", require_two_factor_admins=False
        )
        self.editor = User.objects.create_user("erin", password="pw", first_name="Erin")
        self.manager = User.objects.create_user("max", password="pw", first_name="Max")
        self.admin = User.objects.create_user("ada", password="pw", is_staff=True)
        self.outsider = User.objects.create_user("olga", password="pw")
        for user, role in [
            (self.editor, Role.EDITOR),
            (self.manager, Role.MANAGER),
            (self.admin, Role.ADMIN),
        ]:
            Membership.objects.create(user=user, workspace=self.workspace, role=role)
        Membership.objects.create(
            user=self.outsider, workspace=self.other_workspace, role=Role.ADMIN
        )
        self.project = Project.objects.create(
            workspace=self.workspace,
            scripe_id="proj_01JSANDBOXPROJ000000000001",
            name="Lena Fischer",
            colour=0,
        )
        self.paused = Project.objects.create(
            workspace=self.workspace, scripe_id="proj_paused", name="Paused", status="PAUSED"
        )
        self.foreign_project = Project.objects.create(
            workspace=self.other_workspace, scripe_id="proj_globex", name="Globex page"
        )

    def slot(self, when, *, project=None, status="draft", text="An idea worth a post."):
        from calendar_app.models import PlannedSlot, SourceNote

        project = project or self.project
        note = SourceNote.objects.create(workspace=project.workspace, text=text, author=self.editor)
        return PlannedSlot.objects.create(
            workspace=project.workspace,
            project=project,
            note=note,
            scheduled_for=when,
            status=status,
            created_by=self.editor,
        )


@pytest.fixture(scope="session")
def django_db_setup(
    request, django_test_environment, django_db_blocker, django_db_modify_db_settings
):
    """pytest-django's, but each worker's database is a copy of one migrated template
    (tests/databases.py); Django then finds nothing to migrate (keepdb)."""
    from django.test.utils import setup_databases, teardown_databases

    from tests.databases import copy_template

    with django_db_blocker.unblock():
        copy_template()
        config = setup_databases(verbosity=0, interactive=False, keepdb=True)
    yield
    with django_db_blocker.unblock():
        teardown_databases(config, verbosity=0)


@pytest.fixture
def team(db) -> Team:
    return Team()


@pytest.fixture(autouse=True)
def _local_hosts_allowed(settings):
    # The sandbox runs on 127.0.0.1 over http, which the destination rule refuses unless local
    # hosts are allowed, as in development. Tests of the rule turn it off.
    settings.SCRIPE_ALLOW_LOCAL_HOSTS = True


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness, times four users a test, would dominate the suite.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def clusters():
    """Starts real `qcluster` processes on the test database; kills them afterwards."""
    from tests.support import Cluster

    started: list[Cluster] = []

    def start(**env) -> Cluster:
        cluster = Cluster(**env)
        started.append(cluster)
        return cluster

    yield start
    for cluster in started:
        cluster.stop()
