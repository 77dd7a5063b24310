"""Labels (#15): a workspace's campaigns, themes and pillars, each with a colour from a fixed
palette. Managers keep the list; editors put labels on slots through `services.slot_create`
and `slot_update`, which check them with `labels_check` here, like every other slot rule."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction

from calendar_app import rules
from calendar_app.models import LABEL_COLOURS, Label, PlannedSlot, Workspace
from calendar_app.refusals import Refusal

LABEL_NAME_MAX_CHARS = Label._meta.get_field("name").max_length
# A slot with more labels than this is a filing system, not a tag; it keeps cards readable.
LABELS_PER_SLOT_MAX = 10
COLOUR_CODES = frozenset(code for code, _ in LABEL_COLOURS)


def labels_check(labels: Iterable[Label] | None, *, workspace_id: int | None) -> tuple[Label, ...]:
    """The labels a slot may carry: the workspace's own, at most LABELS_PER_SLOT_MAX."""
    chosen = tuple(dict.fromkeys(labels or ()))
    if workspace_id is not None and any(label.workspace_id != workspace_id for label in chosen):
        raise Refusal(fields={"labels": "Pick labels of the project's workspace."})
    if len(chosen) > LABELS_PER_SLOT_MAX:
        raise Refusal(fields={"labels": f"A post takes at most {LABELS_PER_SLOT_MAX} labels."})
    return chosen


def slot_labels_set(slot: PlannedSlot, labels: Iterable[Label]) -> None:
    """Replaces the slot's labels, and marks it changed so open pages show the new ones."""
    from django.utils import timezone

    slot.labels.set(list(labels))
    PlannedSlot.objects.filter(pk=slot.pk).update(updated_at=timezone.now())


def _validate(*, workspace: Workspace, name: str, colour: int, label: Label | None) -> str:
    problems = rules.Problems()
    name = problems.check(
        rules.text,
        name,
        field="name",
        label="The name",
        limit=LABEL_NAME_MAX_CHARS,
        required="Name the label.",
    )
    if colour not in COLOUR_CODES:
        problems.add("colour", "Pick one of the colours.")
    if name is not None:
        name = " ".join(name.split())
        taken = Label.objects.filter(workspace=workspace, name__iexact=name)
        if label is not None:
            taken = taken.exclude(pk=label.pk)
        if taken.exists():
            problems.add("name", f"There is a label called {name!r} already.")
    problems.raise_any()
    return name


def label_create(*, workspace: Workspace, name: str, colour: int) -> Label:
    """A new label for the workspace; names are unique in it, whatever their case."""
    name = _validate(workspace=workspace, name=name, colour=colour, label=None)
    try:
        with transaction.atomic():
            return Label.objects.create(workspace=workspace, name=name, colour=colour)
    except IntegrityError:
        raise Refusal(fields={"name": f"There is a label called {name!r} already."}) from None


def label_update(*, label: Label, name: str, colour: int) -> Label:
    """Renames or recolours a label; every slot carrying it shows the change."""
    label.name = _validate(workspace=label.workspace, name=name, colour=colour, label=label)
    label.colour = colour
    try:
        with transaction.atomic():
            label.save(update_fields=["name", "colour"])
    except IntegrityError:
        raise Refusal(fields={"name": f"There is a label called {name!r} already."}) from None
    return label


def label_delete(*, label: Label) -> None:
    """Deletes the label; the slots that carried it keep everything else."""
    label.delete()
