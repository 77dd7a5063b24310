"""Demo data for `make run`: three logins, a workspace wired to the local Scripe sandbox, its
projects synced, a few planned posts, a handful of ideas (with Scripe's suggestions), and two
sources to try (#26): a short sample recording and a small document, handed to Scripe by the
worker, with copies to upload by hand; their project gets a posting schedule, so that their
hooks can be planned at its queue times.

`make run` runs it on every start, so it only adds what is missing: existing logins keep their
password (and their sessions), slots go only into an empty calendar. The demo workspace
follows the Scripe it was started with (`SCRIPE_API_BASE_URL`, e.g. another sandbox port)."""

from __future__ import annotations

import os
import tempfile
import time
from datetime import time as clock
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.utils import timezone

from calendar_app.models import (
    Idea,
    IdeaState,
    Membership,
    PlannedSlot,
    Project,
    Role,
    Source,
    SourceNote,
    Workspace,
)
from calendar_app.pipeline.suggestions import suggestions_read
from calendar_app.planning.queue import schedule_set
from calendar_app.planning.services import projects_sync
from calendar_app.sources import samples
from calendar_app.sources import services as sources
from scripe_integration.contract import ScripeError
from scripe_integration.sandbox import DEFAULT_TEST_KEY
from scripe_integration.services import ScripeNotConfigured, connection_for

# The demo sources' project posts at these times (weekday, time): "plan posts from the
# ticked hooks" puts them at its next queue times, which a project without a schedule lacks.
DEMO_SOURCES_PROJECT = "Lena Fischer"
DEMO_SCHEDULE = [(0, clock(9)), (2, clock(9)), (4, clock(12, 30))]

DEMO_PASSWORD = "demo"  # noqa: S105 - a local demo login, printed on purpose

DEMO_USERS = [
    # username, full name, role, Django staff (admin site)
    ("editor", "Erin Editor", Role.EDITOR, False),
    ("manager", "Max Manager", Role.MANAGER, False),
    ("admin", "Ada Admin", Role.ADMIN, True),
]

DEMO_NOTES = [
    "We cut our weekly planning meeting from an hour to fifteen minutes. The trick: everyone "
    "writes their update in the calendar the day before. Nobody reads slides aloud any more.",
    "Three things I wish I had known before hiring our first salesperson. Write the playbook "
    "yourself first. Hire for curiosity. Pay for the pipeline, not for the closed deal.",
    "Customer interview notes: teams plan LinkedIn posts in spreadsheets, lose track of "
    "who approved what, and post late. A shared calendar with review fixes most of it.",
    "Our open-source release went out today. Thank you to the forty people who sent patches. "
    "The hardest part was not the code, it was the documentation.",
]

# The ideas board (#26): text, link, and the state each starts in.
DEMO_IDEAS = [
    ("What a customer asked us last week, and the answer we wish we had given.", "", "new"),
    (
        "A teardown of the article everyone in our industry shared this month.",
        "https://example.com/industry-report",
        "new",
    ),
    ("Behind the scenes: how we plan a week of posts in an hour.", "", "picked"),
    ("The one metric we stopped tracking, and why nothing broke.", "", "new"),
    ("A post about our office dog. Maybe not.", "", "dismissed"),
]


class Command(BaseCommand):
    help = "Create the demo logins (password 'demo'), a demo workspace and a few planned posts."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--wait-for-scripe",
            type=float,
            default=0,
            metavar="SECONDS",
            help="keep trying to sync projects this long while Scripe (the sandbox) starts",
        )

    def handle(self, *args, wait_for_scripe: float = 0, **options) -> None:
        # Two-factor stays off for the demo, so its logins (README) work as they are.
        workspace, _ = Workspace.objects.get_or_create(
            name="Demo Team",
            defaults={"time_zone": "Europe/Berlin", "require_two_factor_admins": False},
        )
        users = {}
        User = get_user_model()
        for username, full_name, role, is_staff in DEMO_USERS:
            first, last = full_name.split(" ", 1)
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User.objects.create_user(
                    username,
                    email=f"{username}@example.com",
                    password=DEMO_PASSWORD,
                    first_name=first,
                    last_name=last,
                    is_staff=is_staff,
                    is_superuser=is_staff,
                )
            Membership.objects.get_or_create(
                user=user, workspace=workspace, defaults={"role": role}
            )
            users[role] = user

        connection = connection_for(workspace)
        connected = connection.has_key or connection.uses_oauth
        if not connected or connection.base_url != settings.SCRIPE_API_BASE_URL:
            # Base URL and key together: a key belongs to the Scripe it was minted for. A
            # workspace an admin connected with Scripe (OAuth) keeps that connection.
            connection.base_url = settings.SCRIPE_API_BASE_URL
            connection.set_key(DEFAULT_TEST_KEY, by=users[Role.ADMIN])
            connection.save()
        self._sync(workspace, wait_for_scripe)
        self._plan(workspace, users[Role.EDITOR])
        self._ideas(workspace, users[Role.EDITOR])
        self._sources(workspace, users[Role.EDITOR])
        self.stdout.write("Demo logins (password for all: demo): editor, manager, admin")

    def _sync(self, workspace: Workspace, wait: float) -> None:
        deadline = time.monotonic() + wait
        while True:
            try:
                result = projects_sync(workspace=workspace)
            except ScripeError as error:
                if error.retryable and time.monotonic() < deadline:
                    time.sleep(0.3)
                    continue
                self.stderr.write(f"Could not sync projects from Scripe: {error.message}")
                return
            self.stdout.write(f"Projects synced from Scripe: {result.summary()}")
            return

    def _plan(self, workspace: Workspace, editor) -> None:
        projects = [p for p in Project.objects.filter(workspace=workspace) if p.is_active]
        if not projects or PlannedSlot.objects.filter(workspace=workspace).exists():
            return
        start = timezone.now().replace(hour=8, minute=0, second=0, microsecond=0)
        for i, text in enumerate(DEMO_NOTES):
            note = SourceNote.objects.create(workspace=workspace, text=text, author=editor)
            PlannedSlot.objects.create(
                workspace=workspace,
                project=projects[i % len(projects)],
                note=note,
                scheduled_for=start + timedelta(days=2 + i * 3, hours=i % 3),
                created_by=editor,
            )
        self.stdout.write(f"Planned {len(DEMO_NOTES)} demo posts.")

    def _ideas(self, workspace: Workspace, editor) -> None:
        projects = [p for p in Project.objects.filter(workspace=workspace) if p.is_active]
        if not Idea.objects.filter(workspace=workspace, scripe_post_id="").exists():
            for i, (text, link, state) in enumerate(DEMO_IDEAS):
                Idea.objects.create(
                    workspace=workspace,
                    project=projects[i % len(projects)] if projects and i % 4 else None,
                    owner=editor,
                    text=text,
                    link=link,
                    state=IdeaState(state),
                )
            self.stdout.write(f"Added {len(DEMO_IDEAS)} demo ideas.")
        # Scripe's suggestions show at once rather than at the sweep's next turn.
        for project in projects:
            try:
                suggestions_read(project=project)
            except (ScripeError, ScripeNotConfigured) as error:
                self.stderr.write(f"Could not read Scripe's suggestions: {error}")
                return

    def _sources(self, workspace: Workspace, editor) -> None:
        """A sample recording and a document: as sources (the worker sends them to Scripe),
        and as files in the temporary directory, to try the upload with."""
        folder = Path(tempfile.gettempdir()) / "scripe-calendar-demo"
        folder.mkdir(exist_ok=True)
        recording = samples.write_wav(folder / "founder-memo.wav")
        document = samples.write_pdf(folder / "product-notes.pdf")
        self.stdout.write(f"Sample files to upload on the Sources page: {recording}, {document}")
        projects = [p for p in Project.objects.filter(workspace=workspace) if p.is_active]
        if not projects or Source.objects.filter(workspace=workspace).exists():
            return
        project = self._scheduled(projects)
        # A copy of its own (the source takes it over), never another run's half-written one.
        handle, name = tempfile.mkstemp(dir=folder, suffix=".upload")
        with os.fdopen(handle, "wb") as copy_file:
            copy_file.write(recording.read_bytes())
        copy = Path(name)
        sources.source_create_file(
            user=editor,
            project=project,
            name=recording.name,
            size=copy.stat().st_size,
            temporary_path=str(copy),
        )
        sources.source_create_text(
            user=editor, project=project, text=samples.DEMO_TEXT, name="Product notes"
        )
        self.stdout.write(f"Added a sample recording and a document as sources of {project.name}.")

    def _scheduled(self, projects: list[Project]) -> Project:
        """A project with a posting schedule, for the sources' hooks to be planned in: one
        that has a schedule, else the sandbox's founder (a founder's memo is hers; the other
        personal brand has no LinkedIn connected there, so its posts could not be
        scheduled), given the demo schedule."""
        for project in projects:
            if project.schedule_times.exists():
                return project
        project = next((p for p in projects if p.name == DEMO_SOURCES_PROJECT), projects[0])
        schedule_set(project=project, schedule=DEMO_SCHEDULE)
        self.stdout.write(f"Gave {project.name} a posting schedule (its queue).")
        return project
