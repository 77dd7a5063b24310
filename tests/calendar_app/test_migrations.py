"""Migrations that move data: generation attempts moved from scripe_integration to the calendar
with every row kept, its content type and the sweep schedule following."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django_q.models import Schedule

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("scripe_integration", "0003_sweep_schedule"), ("calendar_app", "0002_review")]
AFTER = [("scripe_integration", "0004_generationjob_moves_to_calendar_app"),
         ("calendar_app", "0003_generationjob")]  # fmt: skip


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.fixture
def at_the_old_layout():
    old = migrate(BEFORE)
    yield old
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())  # back to today's schema


def test_generation_attempts_move_to_the_calendar_with_every_row(at_the_old_layout):
    old = at_the_old_layout
    workspace = old.get_model("calendar_app", "Workspace").objects.create(name="W")
    project = old.get_model("calendar_app", "Project").objects.create(
        workspace=workspace, scripe_id="proj_1", name="P"
    )
    note = old.get_model("calendar_app", "SourceNote").objects.create(workspace=workspace, text="x")
    slot = old.get_model("calendar_app", "PlannedSlot").objects.create(
        workspace=workspace, project=project, note=note, scheduled_for=timezone.now()
    )
    old_job = old.get_model("scripe_integration", "GenerationJob")
    old_job.objects.create(slot=slot, idempotency_key="k1", post_content="Kept.", attempt=1)
    # Other apps' tables stay as they are today; only ours went back.
    content_type = ContentType.objects.get_or_create(
        app_label="scripe_integration", model="generationjob"
    )[0]

    # As scripe_integration 0003 made it (a test before this one may have flushed it).
    Schedule.objects.update_or_create(
        name="Resume due Scripe generations",
        defaults={"func": "scripe_integration.tasks.sweep_generations", "schedule_type": "I"},
    )

    new = migrate(AFTER)

    job = new.get_model("calendar_app", "GenerationJob").objects.get()
    assert (job.idempotency_key, job.post_content, job.slot_id) == ("k1", "Kept.", slot.pk)
    content_type.refresh_from_db()
    assert content_type.app_label == "calendar_app"
    sweep = Schedule.objects.get(name="Resume due Scripe generations")
    assert sweep.func == "calendar_app.tasks.sweep"
