"""`manage.py sync_projects`: mirror every workspace's Scripe projects (for cron or by hand)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from calendar_app.models import Workspace
from calendar_app.planning.services import projects_sync
from scripe_integration.contract import ScripeError
from scripe_integration.services import ScripeNotConfigured, describe_error


class Command(BaseCommand):
    help = "Sync projects from Scripe for every workspace that has a key (or only --workspace)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--workspace", help="only the workspace with this name")

    def handle(self, *args, workspace: str | None = None, **options) -> None:
        workspaces = Workspace.objects.all()
        if workspace:
            workspaces = workspaces.filter(name=workspace)
            if not workspaces:
                raise CommandError(f"No workspace is called {workspace!r}.")
        failures = 0
        for ws in workspaces:
            try:
                result = projects_sync(workspace=ws)
            except ScripeNotConfigured:
                self.stdout.write(f"{ws.name}: skipped, no Scripe key.")
            except ScripeError as error:
                failures += 1
                self.stderr.write(f"{ws.name}: failed: {describe_error(error)}")
            else:
                self.stdout.write(f"{ws.name}: {result.summary()}")
        if failures:
            raise CommandError(f"{failures} workspace(s) could not be synced.")
