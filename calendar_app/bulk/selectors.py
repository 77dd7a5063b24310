"""What a bulk run's page and the action bar read: a run's counts, title, items and whether it
stalled or can be undone, and what the bar offers a viewer."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Count
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from calendar_app.access import Viewer
from calendar_app.models import (
    BulkAction,
    BulkItem,
    BulkRun,
    Label,
)

Outcome = BulkItem.Outcome
# A run (or an item being worked on) with no progress for this long has lost its task.
STALL_AFTER = timedelta(minutes=2)
# Why the others cannot be undone, said on their run's page.
# Lazy: the module is read once, the page in each reader's language.
NOT_UNDOABLE = {
    BulkAction.GENERATE: gettext_lazy(
        "Generating cannot be undone: Scripe is already writing the posts."
    ),
    BulkAction.APPROVE: gettext_lazy(
        "Approving cannot be undone here: the posts are scheduled in Scripe "
        "and the editors were told. A post's own page can unschedule it."
    ),
    BulkAction.REJECT: gettext_lazy("Rejecting cannot be undone: the editors were told."),
}
# The actions a run of which can be undone, and the name of its Undo button.
UNDOABLE = {
    BulkAction.DELETE: gettext_lazy("Undo delete"),
    BulkAction.MOVE: gettext_lazy("Undo move"),
    BulkAction.LABEL_ADD: gettext_lazy("Undo"),
    BulkAction.LABEL_REMOVE: gettext_lazy("Undo"),
}


def undoable_items(run: BulkRun):
    """The items an Undo of the run puts back: those it did, which for a Move or a label
    change means those it really changed (one that changed nothing has nothing to undo)."""
    done = run.items.filter(outcome=Outcome.DONE)
    return done if run.action == BulkAction.DELETE else done.exclude(before={})


def run_undoable(run: BulkRun) -> bool:
    """Whether the run's page offers Undo: a finished run of an action that can be undone,
    which changed something and was not undone yet."""
    if run.action not in UNDOABLE or run.finished_at is None:
        return False
    return undoable_items(run).exists() and not run.undone_by.exists()


def run_counts(run: BulkRun) -> dict[str, int]:
    """How many of the run's slots are in each outcome (one grouped query)."""
    counts = dict.fromkeys(Outcome.values, 0)
    for row in run.items.values("outcome").annotate(n=Count("id")).order_by():
        counts[row["outcome"]] = row["n"]
    counts["finished"] = counts[Outcome.DONE] + counts[Outcome.REFUSED] + counts[Outcome.FAILED]
    return counts


def run_title(run: BulkRun) -> str:
    """What the run does, in words: "Move 3 posts later by 1 day", "Add label 'Launch' to 40
    posts"."""
    params = run.params
    slots = ngettext("%(count)s post", "%(count)s posts", run.total) % {"count": run.total}
    if run.action == BulkAction.MOVE:
        if "days" in params:
            days = params["days"]
            words = {"posts": slots, "count": abs(days)}
            if days > 0:
                return (
                    ngettext(
                        "Move %(posts)s later by %(count)s day",
                        "Move %(posts)s later by %(count)s days",
                        abs(days),
                    )
                    % words
                )
            return (
                ngettext(
                    "Move %(posts)s earlier by %(count)s day",
                    "Move %(posts)s earlier by %(count)s days",
                    abs(days),
                )
                % words
            )
        day = date_format(date.fromisoformat(params["date"]), _("D j M Y"))
        return _("Move %(posts)s to %(day)s") % {"posts": slots, "day": day}
    if run.action in (BulkAction.LABEL_ADD, BulkAction.LABEL_REMOVE):
        label = Label.objects.filter(public_id=params.get("label")).first()
        name = repr(label.name) if label else _("(deleted)")
        if run.action == BulkAction.LABEL_ADD:
            return _("Add label %(name)s to %(posts)s") % {"name": name, "posts": slots}
        return _("Remove label %(name)s from %(posts)s") % {"name": name, "posts": slots}
    if run.action == BulkAction.UNDO:
        return _("Undo: %(title)s") % {"title": run_title(run.undoes)}
    return _("%(action)s: %(posts)s") % {"action": run.get_action_display(), "posts": slots}


def run_stalled(run: BulkRun) -> bool:
    return run.finished_at is None and run.touched_at < timezone.now() - STALL_AFTER


def bar_context(viewer: Viewer) -> dict:
    """What the action bar offers this viewer: the labels of the workspaces they edit in (one
    query) and, for managers, Approve and Reject."""
    return {
        # Read only where the bar is drawn (not by the list's own refreshes).
        "bulk_labels": Label.objects.filter(
            workspace_id__in=viewer.editable_workspace_ids
        ).select_related("workspace"),
        "bulk_can_manage": bool(viewer.managed_workspace_ids),
        "bulk_can_edit": bool(viewer.editable_workspace_ids),
        "bulk_many_workspaces": len(viewer.workspace_ids) > 1,
    }


def run_items(run: BulkRun):
    """The run's items in the order of its selection, each with its post and project."""
    return run.items.select_related("slot__project").order_by("position")
