"""Demo data for `make run`: three logins, a workspace wired to the local Scripe sandbox, its
projects synced, and a few planned posts.

`make run` runs it on every start, so it only adds what is missing: existing logins keep their
password (and their sessions), slots go only into an empty calendar. The demo workspace
follows the Scripe it was started with (`SCRIPE_API_BASE_URL`, e.g. another sandbox port)."""

from __future__ import annotations

import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.utils import timezone

from calendar_app.models import Membership, PlannedSlot, Project, Role, SourceNote, Workspace
from calendar_app.planning.services import projects_sync
from scripe_integration.contract import ScripeError
from scripe_integration.sandbox import DEFAULT_TEST_KEY
from scripe_integration.services import connection_for

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
        workspace, _ = Workspace.objects.get_or_create(
            name="Demo Team", defaults={"time_zone": "Europe/Berlin"}
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
