"""Migrations that move data: generation attempts moved from scripe_integration to the calendar
with every row kept, its content type and the sweep schedule following; review links made
before they knew their draft's version."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django_q.models import Schedule

from calendar_app.models import ReviewLink

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


def test_review_links_keep_working_only_for_a_draft_nothing_changed_since():
    old = migrate([("calendar_app", "0018_notification_email_state_at")])
    try:
        workspace = old.get_model("calendar_app", "Workspace").objects.create(name="W")
        project = old.get_model("calendar_app", "Project").objects.create(
            workspace=workspace, scripe_id="proj_1", name="P"
        )
        note = old.get_model("calendar_app", "SourceNote").objects.create(
            workspace=workspace, text="x"
        )
        job_model = old.get_model("calendar_app", "GenerationJob")
        link_model = old.get_model("calendar_app", "ReviewLink")
        earlier = timezone.now() - timedelta(hours=1)

        def shared(name: str):
            slot = old.get_model("calendar_app", "PlannedSlot").objects.create(
                workspace=workspace,
                project=project,
                note=note,
                scheduled_for=timezone.now() + timedelta(days=2),
                status="in_review",
            )
            job = job_model.objects.create(
                slot=slot, idempotency_key=name, post_title="T", post_content=f"{name}."
            )
            job_model.objects.filter(pk=job.pk).update(created_at=earlier)
            link = link_model.objects.create(
                slot=slot, token_hash=name.ljust(64, "0"), expires_at=timezone.now() + timedelta(7)
            )
            return slot, job, link

        _, unchanged_job, unchanged = shared("unchanged")
        slot, _, regenerated = shared("regenerated")
        job_model.objects.filter(slot=slot).update(is_current=False)
        job_model.objects.create(slot=slot, idempotency_key="again", attempt=2, post_content="New.")
        slot, _, edited = shared("edited")
        old.get_model("calendar_app", "SlotEvent").objects.create(
            slot=slot, kind="edit", text="Draft edited."
        )
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    links = ReviewLink.objects.select_related("job").in_bulk(
        [unchanged.pk, regenerated.pk, edited.pk]
    )
    assert links[unchanged.pk].job_id == unchanged_job.pk
    assert not links[unchanged.pk].is_outdated
    assert links[regenerated.pk].is_outdated and links[regenerated.pk].job is None
    assert links[edited.pk].is_outdated and links[edited.pk].job is None
