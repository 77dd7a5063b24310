"""Bulk actions (#16): one action on many slots, as that many single actions.

Each slot goes through the service a single click would call (`generation_request`,
`after_approval.post_move`, the label services, `slot_delete` and `slot_restore`,
`review.slot_approve` and `slot_reject`), with the same role check, so there is no second
set of rules. A run is a `BulkRun` with one `BulkItem` per slot, each
recording what became of its slot: done, refused (with the service's sentence) or failed
(an unexpected error, logged; the run goes on with the next slot).

What can be reversed can be undone as a batch (`bulk_undo`): a Delete (each slot restored
within its undo time), a Move (each slot moved back, in Scripe too for a scheduled post)
and a label's Add or Remove, each item through the same services and role rules as the
change, and only where nobody changed that item since. Generate (Scripe is already
writing), Approve (scheduled in Scripe, and people were told) and Reject (the editors were
told) cannot be undone; a post's own page unschedules or regenerates it.

A slot's change and its recorded result commit together, so a slot is never left half-done
and a run cut off (a killed worker) resumes with the slots it had not finished. Changes that
call Scripe (approving, moving a scheduled post) are all-or-nothing by their own design:
Scripe first, then the slot, or nothing.

A handful of slots (`INLINE_MAX`) are done in the request; more go to a django-q2 task,
enqueued on commit, that works through them for at most `TASK_BUDGET` seconds and then hands
the rest to a new task, so no web worker or task waits on 200 slots.
"""

from __future__ import annotations

import logging
import time
import zoneinfo
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from calendar_app.access import Viewer, deleted_slot_for, only_role_can, viewer_of
from calendar_app.bulk.selectors import (
    STALL_AFTER,
    UNDOABLE,
    run_stalled,
    undoable_items,
)
from calendar_app.core.refusals import Refusal
from calendar_app.models import (
    GENERATABLE_STATUSES,
    UNDO_SECONDS,
    BulkAction,
    BulkItem,
    BulkRun,
    Label,
    PlannedSlot,
    Role,
    SlotStatus,
    Workspace,
)
from calendar_app.pipeline.generation import generation_request, spend_cap_sentence
from calendar_app.pipeline.spend import spend_today
from calendar_app.planning import selectors, services
from calendar_app.planning.labels import slot_label_add, slot_label_remove
from calendar_app.review.after_approval import post_move
from calendar_app.review.services import reject_reason, slot_approve, slot_reject
from scripe_integration.plans import GENERATION_CENTS

logger = logging.getLogger(__name__)

TASK = "calendar_app.tasks.bulk_run_advance"
# Up to this many slots are done in the request itself; the answer shows every result.
INLINE_MAX = 5
# A selection larger than this is refused: narrow the filter.
SELECTION_MAX = 1000
# How far a move by days may go, either way.
MOVE_DAYS_MAX = 366
# A task works this long, then hands the rest of the run to a new task.
TASK_BUDGET = settings.GENERATION_TASK_BUDGET

# Who may do what, in the words a refusal uses ("Only a manager can approve drafts.").
ROLES = {
    BulkAction.GENERATE: (Role.EDITOR, gettext_noop("generate posts")),
    BulkAction.MOVE: (Role.EDITOR, gettext_noop("move posts")),
    BulkAction.LABEL_ADD: (Role.EDITOR, gettext_noop("label posts")),
    BulkAction.LABEL_REMOVE: (Role.EDITOR, gettext_noop("label posts")),
    BulkAction.DELETE: (Role.EDITOR, gettext_noop("delete posts")),
    BulkAction.RESTORE: (Role.EDITOR, gettext_noop("restore posts")),
    # An Undo needs what the change it undoes needed (looked up on that run's action).
    BulkAction.APPROVE: (Role.MANAGER, gettext_noop("approve drafts")),
    BulkAction.REJECT: (Role.MANAGER, gettext_noop("reject drafts")),
}
Outcome = BulkItem.Outcome


# Starting a run ---------------------------------------------------------------------------------


def bulk_params(
    *,
    viewer: Viewer,
    action: str,
    days: int | None = None,
    day: date | None = None,
    label: Label | None = None,
    reason: str | None = None,
) -> dict:
    """What the action needs besides the slots, checked once for the whole selection (each
    slot's own rules are checked when it is done). Raises a Refusal naming the field."""
    if action not in BulkAction.values or action in (BulkAction.RESTORE, BulkAction.UNDO):
        raise Refusal(fields={"action": _("Pick an action.")})
    role, doing = ROLES[BulkAction(action)]
    if not viewer.workspaces_with(role):
        raise PermissionDenied(only_role_can(role, doing))
    params: dict = {"zone": viewer.zone.key}
    if action == BulkAction.MOVE:
        if (days is None) == (day is None):
            raise Refusal(fields={"days": _("Move by a number of days, or to a date.")})
        if days is not None:
            if days == 0 or abs(days) > MOVE_DAYS_MAX:
                raise Refusal(
                    fields={
                        "days": _("Move by 1 to %(max)s days, or back.") % {"max": MOVE_DAYS_MAX}
                    }
                )
            params["days"] = days
        else:
            params["date"] = day.isoformat()
    elif action in (BulkAction.LABEL_ADD, BulkAction.LABEL_REMOVE):
        if label is None or label.workspace_id not in viewer.workspace_ids:
            raise Refusal(fields={"label": _("Pick a label.")})
        params["label"] = str(label.public_id)
    elif action == BulkAction.REJECT:
        params["reason"] = reject_reason(
            reason, required=_("Give the editors a reason for rejecting them.")
        )
    return params


def spend_check(*, slots, go_on: bool = False) -> None:
    """Before a bulk Generate: refuses when Scripe's daily spend cap is reached (a 402 said
    so), and, unless `go_on`, asks for confirmation when generating the selection would take
    a workspace past it (Scripe would refuse the rest with a 402 until 00:00 UTC).
    Estimated as insights does: 5 cents a generation."""

    counts = dict(
        slots.filter(status__in=GENERATABLE_STATUSES)
        .values_list("workspace_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    if not counts:
        return
    workspaces = list(Workspace.objects.filter(pk__in=counts).select_related("scripe"))
    spends = spend_today(workspaces)
    for workspace in workspaces:
        spend, wanted = spends[workspace.pk], counts[workspace.pk] * GENERATION_CENTS
        if spend.reached_until is not None:
            raise Refusal(
                _("%(workspace)s: %(problem)s")
                % {
                    "workspace": workspace.name,
                    "problem": spend_cap_sentence(workspace.scripe).shown(),
                }
            )
        if not go_on and spend.left_cents is not None and wanted > spend.left_cents:
            raise Refusal(
                fields={
                    "near_cap": _(
                        "Generating %(count)s posts would use about %(wanted)s cents, and "
                        "%(workspace)s has about %(left)s of its Scripe daily spend cap left: "
                        "Scripe refuses the rest until 00:00 UTC. Tick 'Go on near the cap' to "
                        "generate anyway."
                    )
                    % {
                        "count": counts[workspace.pk],
                        "wanted": wanted,
                        "workspace": workspace.name,
                        "left": spend.left_cents,
                    }
                },
                status=409,
            )


def bulk_start(*, viewer: Viewer, action: str, slots, params: dict) -> BulkRun:
    """A run of `action` on `slots` (a query of the viewer's visible slots: ids outside the
    viewer's workspaces were never in it). A handful are done now; more by a task, enqueued
    once the run is committed."""
    slot_ids = list(slots.order_by("scheduled_for", "id").values_list("pk", flat=True))
    slot_ids = list(dict.fromkeys(slot_ids))
    if not slot_ids:
        raise Refusal(_("Select at least one post."), status=422)
    if len(slot_ids) > SELECTION_MAX:
        raise Refusal(
            _(
                "%(count)s posts are selected; a bulk action takes at most %(max)s. "
                "Narrow the filter."
            )
            % {"count": f"{len(slot_ids):,}", "max": f"{SELECTION_MAX:,}"},
            status=422,
        )
    with transaction.atomic():
        run = BulkRun.objects.create(
            user=viewer.user, action=action, params=params, total=len(slot_ids)
        )
        BulkItem.objects.bulk_create(
            BulkItem(run=run, slot_id=pk, position=n) for n, pk in enumerate(slot_ids)
        )
        if len(slot_ids) > INLINE_MAX:
            transaction.on_commit(lambda: enqueue(run.pk))
    if len(slot_ids) <= INLINE_MAX:
        bulk_run_advance(run.pk, viewer=viewer)
        run.refresh_from_db()
    return run


def bulk_undo(*, viewer: Viewer, run: BulkRun) -> BulkRun:
    """Undoes a finished run, as a run of its own: a Delete's slots are restored through
    `slot_restore`, which refuses the ones whose undo time has passed (done in the request:
    the undo time is seconds, and a restore is one UPDATE a slot); a Move's slots move back
    and a label's Add or Remove is reversed (`_undo_item`), in the request for a handful of
    slots and by a task for more, like any run."""
    if run.action not in UNDOABLE:
        raise Refusal(_("%(action)s cannot be undone.") % {"action": run.get_action_display()})
    if run.finished_at is None:
        raise Refusal(_("It is still running; undo it when it is done."))
    slots = PlannedSlot.objects.filter(pk__in=undoable_items(run).values("slot_id"))
    if not slots.exists():
        raise Refusal(_("Nothing to undo: no post was changed."))
    action = BulkAction.RESTORE if run.action == BulkAction.DELETE else BulkAction.UNDO
    params = {**run.params, "zone": viewer.zone.key}
    with transaction.atomic():
        # The run's row locked, so of two Undo clicks one makes the undo and the other is
        # told it was made (on SQLite, transactions take the write lock one at a time).
        BulkRun.objects.select_for_update().filter(pk=run.pk).first()
        if run.undone_by.exists():
            raise Refusal(_("It was undone already."))
        undo = BulkRun.objects.create(
            user=viewer.user, action=action, params=params, undoes=run, total=slots.count()
        )
        BulkItem.objects.bulk_create(
            BulkItem(run=undo, slot_id=pk, position=n)
            for n, pk in enumerate(
                slots.order_by("scheduled_for", "id").values_list("pk", flat=True)
            )
        )
        if action == BulkAction.UNDO and undo.total > INLINE_MAX:
            transaction.on_commit(lambda: enqueue(undo.pk))
    if action == BulkAction.RESTORE or undo.total <= INLINE_MAX:
        bulk_run_advance(undo.pk, viewer=viewer, budget=None)
        undo.refresh_from_db()
    return undo


def bulk_resume(*, run: BulkRun) -> bool:
    """Hands a stalled run (its task lost) to a new task; False when it is not stalled."""
    if not run_stalled(run):
        return False
    BulkRun.objects.filter(pk=run.pk).update(touched_at=timezone.now())
    transaction.on_commit(lambda: enqueue(run.pk))
    return True


def enqueue(run_id: int) -> None:
    from django_q.tasks import async_task

    async_task(TASK, run_id, task_name=f"bulk-{run_id}", group="bulk")


# Working through a run ----------------------------------------------------------------------------


def bulk_run_advance(run_id: int, *, viewer: Viewer | None = None, budget=TASK_BUDGET) -> int:
    """Does the run's slots not done yet, in order, each claimed by a conditional UPDATE so
    two tasks never do the same slot; after `budget` seconds (None: no limit) the rest goes
    to a new task. Returns how many slots this call did."""
    run = BulkRun.objects.select_related("user").filter(pk=run_id).first()
    if run is None or run.finished_at is not None:
        return 0
    if viewer is None:
        # A task: each item's sentence is written now and read later by the run's owner, so
        # in their language and zone, as the request that started the run wrote the first.
        viewer = viewer_of(run.user)
        with translation.override(viewer.language or None), timezone.override(viewer.zone):
            return _advance(run, viewer, budget)
    return _advance(run, viewer, budget)


def _advance(run: BulkRun, viewer: Viewer, budget) -> int:
    started = time.monotonic()
    count = 0
    while (item := _claim_next(run)) is not None:
        _do(run, viewer, item)
        count += 1
        if budget is not None and time.monotonic() - started > budget:
            transaction.on_commit(lambda: enqueue(run.pk))
            return count
    if not run.items.filter(outcome__in=[Outcome.PENDING, Outcome.WORKING]).exists():
        now = timezone.now()
        BulkRun.objects.filter(pk=run.pk, finished_at__isnull=True).update(
            finished_at=now, touched_at=now
        )
    return count


def _claim_next(run: BulkRun) -> BulkItem | None:
    stale = timezone.now() - STALL_AFTER
    claimable = Q(outcome=Outcome.PENDING) | Q(outcome=Outcome.WORKING, claimed_at__lt=stale)
    for item in run.items.filter(claimable).order_by("position")[:5]:
        now = timezone.now()
        taken = BulkItem.objects.filter(claimable, pk=item.pk).update(
            outcome=Outcome.WORKING, claimed_at=now
        )
        if taken:
            BulkRun.objects.filter(pk=run.pk).update(touched_at=now)
            return item
    return None


def _do(run: BulkRun, viewer: Viewer, item: BulkItem) -> None:
    """One slot: its change and its result together, or its refusal; an unexpected error is
    recorded as this slot's failure and the run goes on."""
    try:
        if run.action == BulkAction.RESTORE:
            slot = deleted_slot_for(viewer, _public_id(item.slot_id))
        else:
            slot = selectors.visible_slots(viewer).filter(pk=item.slot_id).first()
        if slot is None:
            raise Refusal(_("It is no longer there (deleted meanwhile, or not yours to change)."))
        action = run.undoes.action if run.action == BulkAction.UNDO else run.action
        role, doing = ROLES[BulkAction(action)]
        viewer.require(role, slot.workspace_id, doing)
        if _calls_scripe(run, slot):
            # Scripe first, then the slot: all or nothing by the service's own design.
            _record(item, *_apply(run, viewer, slot, item))
        else:
            with transaction.atomic():
                _record(item, *_apply(run, viewer, slot, item))
    except Refusal as refusal:
        _record(item, Outcome.REFUSED, refusal.message)
    except PermissionDenied as denied:
        _record(item, Outcome.REFUSED, str(denied))
    except Exception:
        logger.exception("Bulk run %s: slot %s failed", run.pk, item.slot_id)
        _record(item, Outcome.FAILED, _("Something went wrong with this post; see its page."))


def _public_id(pk: int):
    return PlannedSlot.objects.filter(pk=pk).values_list("public_id", flat=True).first()


def _record(item: BulkItem, outcome: str, message: str, before: dict | None = None) -> None:
    before = before or {}
    BulkItem.objects.filter(pk=item.pk).update(
        outcome=outcome, message=message[:500], before=before
    )
    item.outcome, item.message, item.before = outcome, message, before


def _calls_scripe(run: BulkRun, slot: PlannedSlot) -> bool:
    moves = run.action == BulkAction.MOVE or (
        run.action == BulkAction.UNDO and run.undoes.action == BulkAction.MOVE
    )
    return run.action == BulkAction.APPROVE or (moves and slot.status == SlotStatus.SCHEDULED)


def _apply(run: BulkRun, viewer: Viewer, slot: PlannedSlot, item: BulkItem) -> tuple:
    """The single action on one slot, through its service: (outcome, the sentence, and what
    an undo would need to put it back)."""
    params, user, action = run.params, run.user, run.action
    zone = zoneinfo.ZoneInfo(params.get("zone") or "UTC")
    if action == BulkAction.UNDO:
        return _undo_item(run, viewer, slot, item, zone)
    if action == BulkAction.GENERATE:
        was_in_flight = slot.is_in_flight
        generation_request(slot=slot, user=user)
        sent = (
            _("Already with Scripe; nothing new sent.") if was_in_flight else _("Sent to Scripe.")
        )
        return Outcome.DONE, sent, None
    if action == BulkAction.MOVE:
        local = slot.scheduled_for.astimezone(zone)
        if "days" in params:
            day = local.date() + timedelta(days=params["days"])
        else:
            day = date.fromisoformat(params["date"])
        was = slot.scheduled_for
        message = post_move(viewer=viewer, slot=slot, user=user, day=day, clock=None, zone=zone)
        # What an undo moves it back from and to, and the state it left it in (None when
        # nothing moved).
        moved = {"from": was.isoformat(), "to": slot.scheduled_for.isoformat()}
        moved["status"] = slot.status
        return Outcome.DONE, message, moved if slot.scheduled_for != was else None
    if action in (BulkAction.LABEL_ADD, BulkAction.LABEL_REMOVE):
        label = _label(run)
        had = slot.labels.filter(pk=label.pk).exists()
        if action == BulkAction.LABEL_ADD:
            message = slot_label_add(slot=slot, label=label, user=user)
        else:
            message = slot_label_remove(slot=slot, label=label, user=user)
        changed = had != (action == BulkAction.LABEL_ADD)
        return Outcome.DONE, message, {"label": True} if changed else None
    if action == BulkAction.DELETE:
        services.slot_delete(slot=slot)
        return Outcome.DONE, _("Deleted."), None
    if action == BulkAction.RESTORE:
        # The batch's Undo time counts from when its delete finished, not from each slot.
        finished = run.undoes.finished_at if run.undoes_id else None
        until = finished + timedelta(seconds=UNDO_SECONDS) if finished else None
        services.slot_restore(slot=slot, until=until)
        return Outcome.DONE, _("Restored."), None
    if action == BulkAction.APPROVE:
        message = slot_approve(slot=slot, user=user)
        slot.refresh_from_db(fields=["status"])
        approved = slot.status in (SlotStatus.SCHEDULED, SlotStatus.APPROVING)
        return (Outcome.DONE if approved else Outcome.REFUSED), message, None
    if action == BulkAction.REJECT:
        return Outcome.DONE, slot_reject(slot=slot, user=user, reason=params.get("reason")), None
    raise Refusal(_("Unknown action %(action)s.") % {"action": repr(action)})


def _label(run: BulkRun) -> Label:
    label = Label.objects.filter(public_id=run.params["label"]).first()
    if label is None:
        raise Refusal(_("The label was deleted meanwhile."))
    return label


def _undo_item(run: BulkRun, viewer: Viewer, slot: PlannedSlot, item: BulkItem, zone) -> tuple:
    """Puts one slot back as it was before the change the run undoes, through the same
    services, unless someone changed it since: then it is left as they made it, and the
    item says so."""
    original = run.undoes
    before = (
        BulkItem.objects.filter(run=original, slot_id=item.slot_id)
        .values_list("before", flat=True)
        .first()
    )
    user = run.user
    if original.action == BulkAction.MOVE:
        back, moved_to = (datetime.fromisoformat(before[k]) for k in ("from", "to"))
        if slot.scheduled_for != moved_to:
            now = slot.scheduled_for.astimezone(zone)
            raise Refusal(
                _("It was moved again meanwhile, to %(when)s; left there.")
                % {"when": date_format(now, _("D j M, H:i"))}
            )
        if slot.status != before["status"]:
            raise Refusal(
                _("It changed meanwhile (it is %(status)s now); left where it is.")
                % {"status": slot.get_status_display().lower()}
            )
        local = back.astimezone(zone)
        clock = local.time().replace(tzinfo=None)
        # Conditional on the time the move left it at: a move made meanwhile wins.
        message = post_move(
            viewer=viewer,
            slot=slot,
            user=user,
            day=local.date(),
            clock=clock,
            zone=zone,
            expected=moved_to,
        )
        return Outcome.DONE, message, None
    label = _label(run)
    has = slot.labels.filter(pk=label.pk).exists()
    if original.action == BulkAction.LABEL_ADD:
        if not has:
            raise Refusal(
                _("The label %(name)s was taken off meanwhile; left as it is.")
                % {"name": repr(label.name)}
            )
        return Outcome.DONE, slot_label_remove(slot=slot, label=label, user=user), None
    if has:
        raise Refusal(
            _("The label %(name)s was put back meanwhile; left as it is.")
            % {"name": repr(label.name)}
        )
    return Outcome.DONE, slot_label_add(slot=slot, label=label, user=user), None
