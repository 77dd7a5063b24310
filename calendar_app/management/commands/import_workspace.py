"""`manage.py import_workspace <archive>`: recreate a workspace from an export archive."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from calendar_app.portability.archive import ArchiveError, import_archive


class Command(BaseCommand):
    help = (
        "Recreate a workspace from an export archive (the zip an admin downloads). People are "
        "found by email; anyone the site does not know is created inactive, without a password. "
        "Public ids (addresses) are kept where free. Webhook endpoints come back off, with new "
        "secrets; the Scripe key is not in the archive: an admin sets it again."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("archive", help="path to the .zip archive")

    def handle(self, *args, archive: str, **options) -> None:
        try:
            with open(archive, "rb") as stream:
                result = import_archive(stream)
        except FileNotFoundError as error:
            raise CommandError(f"No such file: {archive}") from error
        except ArchiveError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Imported {result.workspace.name} ({result.workspace.public_id}): "
            + ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in result.counts.items())
        )
        if result.created_people:
            self.stdout.write(
                "Created inactive accounts (activate them in the admin to let them log in): "
                + ", ".join(result.created_people)
            )
