"""`manage.py delete_workspace <public id>`: delete a workspace with everything in it."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from calendar_app.models import Workspace
from calendar_app.portability.services import workspace_contents, workspace_delete


class Command(BaseCommand):
    help = (
        "Delete a workspace with everything in it: its rows, the uploaded files the app still "
        "keeps, export archives and the tasks queued for it. Lists what goes and asks first "
        "(--yes to skip the question)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("workspace", help="the workspace's public id (a UUID)")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args, workspace: str, yes: bool = False, **options) -> None:
        try:
            found = Workspace.objects.filter(public_id=workspace).first()
        except ValidationError as error:
            raise CommandError(f"{workspace!r} is not a workspace id (a UUID).") from error
        if found is None:
            raise CommandError(f"No workspace has the id {workspace}.")
        self.stdout.write(f"Deleting {found.name} deletes:")
        for kind, count in workspace_contents(found).items():
            self.stdout.write(f"  {kind}: {count}")
        if not yes and input("Type the workspace's name to confirm: ").strip() != found.name:
            raise CommandError("Not confirmed; nothing was deleted.")
        deletion = workspace_delete(workspace=found)
        self.stdout.write(
            f"Deleted {sum(deletion.counts.values())} rows, {deletion.files_removed} files, "
            f"{deletion.tasks_dropped} queued tasks."
        )
