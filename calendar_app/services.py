"""Everything that writes: slots, notes and the project mirror. Views call these."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils import timezone

from calendar_app.activity import Kind, record
from calendar_app.models import PROJECT_COLOURS, PlannedSlot, Project, SourceNote, Workspace
from calendar_app.scheduling import LocalTimeError, local_to_utc, schedule_problem
from scripe_integration.services import projects_fetch


class SlotRefused(Exception):
    """A change the slot's rules do not allow, with a message for the user."""


def _note_for(
    *,
    workspace: Workspace,
    user,
    note_text: str,
    note: SourceNote | None,
    language: str,
    current: SourceNote | None = None,
) -> SourceNote:
    text = (note_text or "").strip()
    if not text and note is not None:
        return note
    # An edited note that other slots share becomes a new note, so they keep their text.
    if current is not None and current.slots.count() <= 1:
        current.text, current.language = text, language
        current.save(update_fields=["text", "language", "updated_at"])
        return current
    return SourceNote.objects.create(workspace=workspace, text=text, language=language, author=user)


@transaction.atomic
def slot_create(
    *, user, project: Project, note_text: str, note: SourceNote | None, language: str, scheduled_for
) -> PlannedSlot:
    """Plans a post. The note is new unless an existing one is picked and no text written."""
    source = _note_for(
        workspace=project.workspace, user=user, note_text=note_text, note=note, language=language
    )
    slot = PlannedSlot.objects.create(
        workspace=project.workspace,
        project=project,
        note=source,
        scheduled_for=scheduled_for,
        created_by=user,
    )
    record(slot, kind=Kind.STATUS, actor=user, text="Planned.")
    return slot


@transaction.atomic
def slot_update(
    *,
    slot: PlannedSlot,
    user,
    project: Project,
    note_text: str,
    note: SourceNote | None,
    language: str,
    scheduled_for,
) -> PlannedSlot:
    if not slot.is_editable:
        raise SlotRefused(slot.locked_reason)
    if project.workspace_id != slot.workspace_id:
        raise SlotRefused("A slot cannot move to another workspace's project.")
    current = slot.note if not note or note.pk == slot.note_id else None
    slot.note = _note_for(
        workspace=slot.workspace,
        user=user,
        note_text=note_text,
        note=note,
        language=language,
        current=current,
    )
    slot.project = project
    slot.scheduled_for = scheduled_for
    slot.save(update_fields=["note", "project", "scheduled_for", "updated_at"])
    record(slot, kind=Kind.EDIT, actor=user, text="Slot edited.")
    return slot


def slot_move(*, slot: PlannedSlot, day: date, zone: zoneinfo.ZoneInfo, user=None) -> PlannedSlot:
    """Moves a slot to another local day, keeping its local time of day."""
    if not slot.is_editable:
        raise SlotRefused(slot.locked_reason)
    local = slot.scheduled_for.astimezone(zone)
    try:
        when = local_to_utc(day, local.time().replace(tzinfo=None), zone)
    except LocalTimeError as error:
        raise SlotRefused(str(error)) from None
    problem = schedule_problem(when)
    if problem:
        raise SlotRefused(f"Cannot move it to {day:%a %d %b}: {problem[0].lower()}{problem[1:]}")
    slot.reschedule(when)
    record(
        slot,
        kind=Kind.EDIT,
        actor=user,
        text=f"Moved to {when.astimezone(zone):%a %d %b %Y, %H:%M} ({zone.key}).",
    )
    return slot


def slot_delete(*, slot: PlannedSlot) -> None:
    if not slot.is_editable:
        raise SlotRefused(slot.locked_reason)
    slot.soft_delete()


def slot_restore(*, slot: PlannedSlot) -> None:
    slot.restore()


@dataclass
class SyncResult:
    created: int = 0
    updated: int = 0
    missing: int = 0

    def summary(self) -> str:
        return (
            f"{self.created} new, {self.updated} updated"
            + (f", {self.missing} no longer in Scripe" if self.missing else "")
            + "."
        )


def projects_sync(*, workspace: Workspace) -> SyncResult:
    """Mirrors the workspace's Scripe projects. Projects Scripe no longer lists are kept (slots
    point at them) but flagged, so they take no new slots. Raises ScripeError on failure."""
    # Outside the transaction: a refused key is recorded even though the sync fails.
    remote = projects_fetch(workspace=workspace)
    with transaction.atomic():
        return _mirror_projects(workspace, remote)


def _mirror_projects(workspace: Workspace, remote: list) -> SyncResult:
    now = timezone.now()
    existing = {p.scripe_id: p for p in Project.objects.filter(workspace=workspace)}
    result = SyncResult()
    used_colours = len(existing)
    for item in remote:
        project = existing.pop(item.id, None)
        fields = {
            "name": item.name[:200],
            "type": item.type[:40],
            "status": item.status[:40],
            "linkedin_url": item.url or "",
            "synced_at": now,
            "missing_from_scripe": False,
        }
        if project is None:
            Project.objects.create(
                workspace=workspace,
                scripe_id=item.id,
                colour=used_colours % PROJECT_COLOURS,
                **fields,
            )
            used_colours += 1
            result.created += 1
        else:
            for name, value in fields.items():
                setattr(project, name, value)
            project.save()
            result.updated += 1
    result.missing = Project.objects.filter(pk__in=[p.pk for p in existing.values()]).update(
        missing_from_scripe=True
    )
    return result
