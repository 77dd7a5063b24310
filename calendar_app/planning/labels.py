"""Labels (#15): a workspace's campaigns, themes and pillars, each with a colour from a fixed
palette. Managers keep the list; editors put labels on slots through `services.slot_create`
and `slot_update`, which check them with `labels_check` here, like every other slot rule."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from calendar_app.core.refusals import Refusal
from calendar_app.models import LABEL_COLOURS, Label, PlannedSlot, Workspace
from calendar_app.notifications.trail import Kind, record
from calendar_app.planning import rules
from scripe_integration.sentences import Said

LABEL_NAME_MAX_CHARS = Label._meta.get_field("name").max_length
# A slot with more labels than this is a filing system, not a tag; it keeps cards readable.
LABELS_PER_SLOT_MAX = 10
COLOUR_CODES = frozenset(code for code, _ in LABEL_COLOURS)


def labels_check(labels: Iterable[Label] | None, *, workspace_id: int | None) -> tuple[Label, ...]:
    """The labels a slot may carry: the workspace's own, at most LABELS_PER_SLOT_MAX."""
    chosen = tuple(dict.fromkeys(labels or ()))
    if workspace_id is not None and any(label.workspace_id != workspace_id for label in chosen):
        raise Refusal(fields={"labels": _("Pick labels of the project's workspace.")})
    if len(chosen) > LABELS_PER_SLOT_MAX:
        raise Refusal(
            fields={
                "labels": _("A post takes at most %(max)s labels.") % {"max": LABELS_PER_SLOT_MAX}
            }
        )
    return chosen


def slot_labels_set(slot: PlannedSlot, labels: Iterable[Label]) -> None:
    """Replaces the slot's labels, and marks it changed so open pages show the new ones."""
    from django.utils import timezone

    slot.labels.set(list(labels))
    PlannedSlot.objects.filter(pk=slot.pk).update(updated_at=timezone.now())


def slot_label_add(*, slot: PlannedSlot, label: Label, user=None) -> str:
    """Puts one label on a slot, checked by `labels_check` like a form's labels (the slot's
    workspace's own, at most LABELS_PER_SLOT_MAX). A label only files the post, so it may be
    put on a slot in any state; the slot's other fields are left alone."""
    current = list(slot.labels.all())
    if label in current:
        return _("It already has the label %(name)s.") % {"name": repr(label.name)}
    labels_check([*current, label], workspace_id=slot.workspace_id)
    with transaction.atomic():
        slot_labels_set(slot, [*current, label])
        said = Said(gettext_noop("Label %(name)s added."), name=repr(label.name))
        record(slot, kind=Kind.EDIT, actor=user, text=said)
    return _("Label %(name)s added.") % {"name": repr(label.name)}


def slot_label_remove(*, slot: PlannedSlot, label: Label, user=None) -> str:
    """Takes one label off a slot; its other labels stay."""
    current = list(slot.labels.all())
    if label not in current:
        return _("It did not have the label %(name)s.") % {"name": repr(label.name)}
    with transaction.atomic():
        slot_labels_set(slot, [other for other in current if other != label])
        said = Said(gettext_noop("Label %(name)s removed."), name=repr(label.name))
        record(slot, kind=Kind.EDIT, actor=user, text=said)
    return _("Label %(name)s removed.") % {"name": repr(label.name)}


def _taken(name: str) -> str:
    return _("There is a label called %(name)s already.") % {"name": repr(name)}


def _validate(*, workspace: Workspace, name: str, colour: int, label: Label | None) -> str:
    problems = rules.Problems()
    name = problems.check(
        rules.text,
        name,
        field="name",
        label=_("The name"),
        limit=LABEL_NAME_MAX_CHARS,
        required=_("Name the label."),
    )
    if colour not in COLOUR_CODES:
        problems.add("colour", _("Pick one of the colours."))
    if name is not None:
        name = " ".join(name.split())
        taken = Label.objects.filter(workspace=workspace, name__iexact=name)
        if label is not None:
            taken = taken.exclude(pk=label.pk)
        if taken.exists():
            problems.add("name", _taken(name))
    problems.raise_any()
    return name


def label_create(*, workspace: Workspace, name: str, colour: int) -> Label:
    """A new label for the workspace; names are unique in it, whatever their case."""
    name = _validate(workspace=workspace, name=name, colour=colour, label=None)
    try:
        with transaction.atomic():
            return Label.objects.create(workspace=workspace, name=name, colour=colour)
    except IntegrityError:
        raise Refusal(fields={"name": _taken(name)}) from None


def label_update(*, label: Label, name: str, colour: int) -> Label:
    """Renames or recolours a label; every slot carrying it shows the change."""
    label.name = _validate(workspace=label.workspace, name=name, colour=colour, label=label)
    label.colour = colour
    try:
        with transaction.atomic():
            label.save(update_fields=["name", "colour"])
            _touch_slots(label)
    except IntegrityError:
        raise Refusal(fields={"name": _taken(name)}) from None
    return label


@transaction.atomic
def label_delete(*, label: Label) -> None:
    """Deletes the label; the slots that carried it keep everything else."""
    _touch_slots(label)
    label.delete()


def _touch_slots(label: Label) -> None:
    """The slots carrying the label changed for whoever shows them: open pages (the live
    poll) and cached cards follow their `updated_at`."""
    from django.utils import timezone

    PlannedSlot.objects.filter(labels=label).update(updated_at=timezone.now())
