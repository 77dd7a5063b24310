"""CSV import at volume: the upload, the preview and the confirmation of a 2,000-row file,
with their time and database queries.

    .venv/bin/python bench/csv_import.py --rows 2000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cal .venv/bin/python bench/csv_import.py

Runs on a fresh SQLite file, or on `<name>_bench` (created and dropped) when DATABASE_URL names
a PostgreSQL database, with DEBUG off as the other benches. The file is what a spreadsheet
exports: a BOM, `;` separators, day-first dates, a quoted note over two lines in every tenth
row. The preview must not cost a
query per row; the confirmation plans every row through the same service as the form.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import calendar_views as shared  # noqa: E402 - after the path it lives on


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2000)
    args = parser.parse_args()

    workdir = shared.configure("bench-csv-")
    import django

    django.setup()
    from django.db import connection

    with shared.bench_database(workdir):
        run(args.rows, connection)


def run(rows: int, connection) -> None:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from calendar_app.interchange.csv_import import import_confirm, import_preview, import_upload
    from calendar_app.models import Membership, PlannedSlot, Project, Workspace

    workspace = Workspace.objects.create(name="Bench", time_zone="Europe/Berlin")
    projects = [
        Project.objects.create(workspace=workspace, scripe_id=f"proj_bench{i}", name=f"Brand {i}")
        for i in range(5)
    ]
    user = get_user_model().objects.create_user("bench", password="bench")
    Membership.objects.create(user=user, workspace=workspace, role="editor")
    zone = workspace.zone

    start = timezone.localtime(timezone.now() + timedelta(days=2), zone).date()
    lines = ["Date;Time;Project;Note;Language"]
    for i in range(rows):
        day = start + timedelta(days=i // 40)
        clock = f"{8 + (i % 40) // 4:02d}:{(i % 4) * 15:02d}"
        note = f"Idea number {i}: what we learned this week."
        if i % 10 == 0:
            note = f'"Idea number {i}:\nwhat we learned; and why it matters."'
        lines.append(f"{day:%d.%m.%Y};{clock};Brand {i % 5};{note};en")
    data = ("\ufeff" + "\n".join(lines) + "\n").encode()

    with Counted(connection) as uploaded:
        began = time.perf_counter()
        upload = import_upload(workspace=workspace, user=user, data=data, filename="plan.csv")
        upload_s = time.perf_counter() - began
    with Counted(connection) as previewed:
        began = time.perf_counter()
        preview = import_preview(upload=upload, projects=projects, zone=zone)
        preview_s = time.perf_counter() - began
    ok = [row.number for row in preview.rows if row.ok]
    with Counted(connection) as confirmed:
        began = time.perf_counter()
        import_confirm(upload=upload, user=user, preview=preview, numbers=ok)
        confirm_s = time.perf_counter() - began
    planned = PlannedSlot.objects.filter(workspace=workspace).count()

    print(f"database                 {connection.vendor}")
    print(f"rows                     {rows} ({len(data) / 1024:.0f} KB)")
    print(f"upload                   {upload_s * 1000:.0f} ms, {len(uploaded)} queries")
    print(f"preview                  {preview_s * 1000:.0f} ms, {len(previewed)} queries "
          f"({len(ok)} rows ready)")  # fmt: skip
    print(f"confirm                  {confirm_s * 1000:.0f} ms, {len(confirmed)} queries "
          f"({len(confirmed) / max(1, len(ok)):.1f} per row)")  # fmt: skip
    print(f"slots planned            {planned}")


class Counted:
    """Counts the queries run inside it (Django's query log stops at 9,000)."""

    def __init__(self, connection) -> None:
        self.connection, self.count = connection, 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)

    def __enter__(self):
        self.hook = self.connection.execute_wrapper(self)
        self.hook.__enter__()
        return self

    def __exit__(self, *exc_info) -> None:
        self.hook.__exit__(*exc_info)

    def __len__(self) -> int:
        return self.count


if __name__ == "__main__":
    main()
