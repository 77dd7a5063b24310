"""Everything that writes: slots, notes and the project mirror. Views call these, and so does
every other way in (CSV rows, bulk actions, webhooks): the rules are checked here, once."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from calendar_app.access import Viewer
from calendar_app.core.refusals import Refusal
from calendar_app.models import (
    PROJECT_COLOURS,
    IllegalTransition,
    PlannedSlot,
    Project,
    Role,
    SlotStatus,
    SourceNote,
    Workspace,
    undo_deadline,
)
from calendar_app.notifications.trail import Kind, record
from calendar_app.planning import rules
from calendar_app.planning.labels import labels_check
from scripe_integration.sentences import Said
from scripe_integration.services import projects_fetch


@dataclass(frozen=True)
class SlotPlan:
    """A slot's fields once every rule has passed."""

    project: Project
    note_text: str
    note: SourceNote | None
    language: str
    scheduled_for: datetime
    labels: tuple = ()


def slot_validate(
    *,
    project: Project | None,
    note_text: str,
    note: SourceNote | None,
    language: str,
    day: date | None,
    clock: time | None,
    zone: zoneinfo.ZoneInfo,
    slot: PlannedSlot | None = None,
    labels=None,
) -> SlotPlan:
    """The slot rules, for every way a slot is planned or re-planned: an active project (of
    the slot's workspace), a note written or picked (within Scripe's limit), a known
    language, a local time that exists, is far enough ahead and not too far, and labels of
    the workspace. Raises one Refusal naming every field at fault."""
    problems = rules.Problems()
    if project is None:
        problems.add("project", _("Choose a project."))
    elif not project.is_active:
        problems.add("project", project.inactive_reason)
    elif slot is not None and project.workspace_id != slot.workspace_id:
        problems.add("project", _("A post cannot move to another workspace's project."))
    text = problems.check(
        rules.text, note_text, field="note_text", label=_("The note"), limit=rules.NOTE_MAX_CHARS
    )
    if text is not None and not text.strip() and note is None:
        problems.add("note_text", _("Write the note Scripe should turn into a post."))
    if note is not None and project is not None and note.workspace_id != project.workspace_id:
        problems.add("existing_note", _("That note belongs to another workspace."))
    problems.check(rules.language, language)
    when = None
    if day is None:
        problems.add("date", _("Pick a day in the calendar."))
    elif clock is None:
        problems.add("time", _("Pick a time."))
    else:
        when = problems.check(rules.plan_time, day, clock, zone)
    workspace_id = project.workspace_id if project is not None else None
    chosen = problems.check(labels_check, labels, workspace_id=workspace_id)
    problems.raise_any()
    return SlotPlan(project, text.strip(), note, language, when, chosen)


def _note_for(
    *, workspace: Workspace, user, plan: SlotPlan, current: SourceNote | None = None
) -> SourceNote:
    if not plan.note_text and plan.note is not None:
        return plan.note
    # An edited note that other slots share becomes a new note, so they keep their text.
    if current is not None and current.slots.count() <= 1:
        current.text, current.language = plan.note_text, plan.language
        current.save(update_fields=["text", "language", "updated_at"])
        return current
    return SourceNote.objects.create(
        workspace=workspace, text=plan.note_text, language=plan.language, author=user
    )


def slot_create(*, user, zone: zoneinfo.ZoneInfo, request_key: str = "", **fields) -> PlannedSlot:
    """Plans a post (fields as for `slot_validate`). The note is new unless an existing one
    is picked and no text written. A request sent twice with the same `request_key` (a
    double click, a retried form, a re-imported row) plans one slot and returns it both
    times."""
    plan = slot_validate(zone=zone, **fields)
    workspace = plan.project.workspace
    if request_key and (earlier := _planned_by(workspace, request_key)):
        return earlier
    try:
        with transaction.atomic():
            slot = PlannedSlot.objects.create(
                workspace=workspace,
                project=plan.project,
                note=_note_for(workspace=workspace, user=user, plan=plan),
                scheduled_for=plan.scheduled_for,
                created_by=user,
                request_key=request_key,
            )
            if plan.labels:
                slot.labels.set(plan.labels)
            record(slot, kind=Kind.STATUS, actor=user, text=gettext_noop("Planned."))
    except IntegrityError:
        # The twin request won the race for the key; its slot is the answer.
        earlier = _planned_by(workspace, request_key) if request_key else None
        if earlier is None:
            raise
        return earlier
    return slot


def _planned_by(workspace: Workspace, request_key: str) -> PlannedSlot | None:
    return PlannedSlot.objects.filter(workspace=workspace, request_key=request_key).first()


@transaction.atomic
def slot_update(*, slot: PlannedSlot, user, zone: zoneinfo.ZoneInfo, **fields) -> PlannedSlot:
    """Re-plans an editable slot; refused (and nothing saved) if it stopped being editable.
    Its labels are replaced when `labels` is given (None leaves them as they are)."""
    slot.require_editable()
    plan = slot_validate(zone=zone, slot=slot, **fields)
    current = slot.note if plan.note is None or plan.note.pk == slot.note_id else None
    note = _note_for(workspace=slot.workspace, user=user, plan=plan, current=current)
    slot.replan(project=plan.project, note=note, scheduled_for=plan.scheduled_for)
    if fields.get("labels") is not None:
        slot.labels.set(plan.labels)
    record(slot, kind=Kind.EDIT, actor=user, text=gettext_noop("Post edited."))
    return slot


def slot_move_refusal(*, viewer: Viewer, slot: PlannedSlot) -> Refusal | None:
    """Why `viewer` may not move `slot` to another day or time, or None when they may: the
    one rule a drop on the calendar and a bulk Move check, and the one a card shows (draggable,
    or not with this sentence on hover). A post scheduled in Scripe is moved there, which is a
    manager's decision; any other moves while nothing is under way for it."""
    if slot.status == SlotStatus.SCHEDULED:
        if viewer.can(Role.MANAGER, slot.workspace_id):
            return None
        return Refusal(_("Only a manager can change scheduled posts."), status=403)
    if not viewer.can(Role.EDITOR, slot.workspace_id):
        return Refusal(_("Only an editor can move posts."), status=403)
    if not slot.is_editable:
        return IllegalTransition(slot.locked_reason)
    return None


def slot_move(
    *,
    slot: PlannedSlot,
    day: date,
    zone: zoneinfo.ZoneInfo,
    user=None,
    clock: time | None = None,
    expected: datetime | None = None,
) -> PlannedSlot:
    """Moves a slot to another local day, keeping its local time of day, or to `clock` that
    day (a drop on an hour of the week grid). With `expected`, only a slot still at that time
    (an undo leaves one that was moved again meanwhile where it is)."""
    slot.require_editable()
    at = date_format(day, _("D j M")) + (f", {clock:%H:%M}" if clock else "")
    if clock is None:
        clock = slot.scheduled_for.astimezone(zone).time().replace(tzinfo=None)
    try:
        when = rules.plan_time(day, clock, zone, field="date")
    except Refusal as refusal:
        reason = _lower_first(refusal.message)
        raise Refusal(
            _("Cannot move it to %(when)s: %(reason)s") % {"when": at, "reason": reason}
        ) from None
    slot.reschedule(when, expected=expected)
    record(
        slot,
        kind=Kind.EDIT,
        actor=user,
        text=Said(gettext_noop("Moved to %(when)s."), when=when),
    )
    return slot


def slot_delete(*, slot: PlannedSlot) -> None:
    """Hides the slot at once; `slot_restore` brings it back for UNDO_SECONDS."""
    slot.require_editable()
    slot.soft_delete()


def slot_restore(*, slot: PlannedSlot, until: datetime | None = None) -> None:
    """Undo for a delete, within UNDO_SECONDS of it, or until `until` (a bulk delete's undo
    counts from when the whole run finished)."""
    deadline = until or undo_deadline(slot)
    if deadline is None or timezone.now() > deadline:
        raise Refusal(_("Too late to undo: the post stays deleted."), status=410)
    if not slot.restore():
        raise Refusal(_("Nothing to undo: the post is not deleted."))


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


URL_MAX_CHARS = Project._meta.get_field("linkedin_url").max_length


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


def _storable_url(url: str | None) -> str:
    url = url or ""
    ok = url.startswith(("https://", "http://")) and len(url) <= URL_MAX_CHARS
    return url if ok else ""


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
            # A link is kept only if it is one we can store and show safely.
            "linkedin_url": _storable_url(item.url),
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
