"""Changing a post after approval: a new time, unscheduling, its text. Scripe first, then
the slot, so the calendar never shows a change Scripe did not make.

A new time or unscheduling claims the slot first (`approving`, shown as "Scheduling"), the
way an approval does: of two managers changing it at once only one reaches Scripe, a refusal
puts the row back exactly, and an answer lost to a timeout leaves it claimed until Scripe's
copy settles it (now, or at the sweep).
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time

from django.db import transaction
from django.utils import timezone

from calendar_app import rules
from calendar_app.activity import Kind, record
from calendar_app.models import GenerationJob, PlannedSlot, SlotStatus
from calendar_app.refusals import Refusal
from calendar_app.review import edited_meanwhile, fits_linkedin, post_text, scripe_scheduled
from scripe_integration.client import ScripeError, ScripeInputError
from scripe_integration.services import ScripeNotConfigured, describe_error, post_update


def _scheduled_post(slot: PlannedSlot) -> GenerationJob:
    job = slot.current_job
    if slot.status != SlotStatus.SCHEDULED or job is None or not job.post_id:
        if slot.status == SlotStatus.APPROVING:
            raise Refusal(slot.taken_by_someone_else(), stale=True)
        raise Refusal("Only a post scheduled in Scripe can be changed here.", stale=True)
    return job


def _say(error: ScripeError, doing: str) -> str:
    if error.code == "conflict":
        return (
            f"Scripe could not {doing}: the project's LinkedIn connection is down. Reconnect it "
            "in Scripe and try again. Nothing was changed."
        )
    if error.code == "unprocessable":
        return f"Scripe could not {doing}: {error.message.rstrip('.')}. Nothing was changed."
    if error.http_status is None:
        return "Scripe could not be reached, so nothing was changed. Try again in a minute."
    return f"Scripe refused: {describe_error(error)} Nothing was changed."


def _local(when: datetime, zone: zoneinfo.ZoneInfo) -> str:
    return f"{when.astimezone(zone):%a %d %b, %H:%M}"


def scheduled_reschedule(
    *, slot: PlannedSlot, user, day: date | None, clock: time | None, zone: zoneinfo.ZoneInfo
) -> str:
    """Moves a scheduled post to a new time (the planning rules apply: the lead time, the
    15-minute grid, no DST gap): Scripe first, then the slot."""
    job = _scheduled_post(slot)
    if day is None or clock is None:
        raise Refusal(fields={"date": "Pick a day and a time."})
    when = rules.plan_time(day, clock, zone)
    before = slot.scheduled_for
    if when == before:
        return "It is already scheduled for then."
    answer = _claimed_change(slot, job, user, scheduled_for=when, doing="move it")
    if answer is not None:
        return answer
    with transaction.atomic():
        slot.change_done(scheduled_for=when)
        record(
            slot,
            kind=Kind.STATUS,
            actor=user,
            text=f"Rescheduled from {_local(before, zone)} to {_local(when, zone)}.",
        )
    return f"Rescheduled to {_local(when, zone)}."


def scheduled_unschedule(*, slot: PlannedSlot, user) -> str:
    """Takes a scheduled post back: Scripe unschedules it (it stays a draft there) and the
    slot returns to review with a note."""
    job = _scheduled_post(slot)
    answer = _claimed_change(slot, job, user, scheduled_for=None, doing="unschedule it")
    if answer is not None:
        return answer
    who = user.get_full_name() or user.get_username()
    with transaction.atomic():
        slot.unscheduled_by(who)
        record(slot, kind=Kind.STATUS, actor=user, text="Unscheduled; back in review.")
    return "Unscheduled: it is back in review, and a draft again in Scripe."


def _claimed_change(
    slot: PlannedSlot, job: GenerationJob, user, *, scheduled_for: datetime | None, doing: str
) -> str | None:
    """Claims the slot and sends Scripe the new time (None: unschedule). Returns None when
    Scripe made the change (the caller records it); raises a Refusal, with the claim undone
    exactly, when it did not; and when nobody knows (a timeout, a 5xx), settles from
    Scripe's copy of the post and returns what happened."""
    what = "Rescheduling" if scheduled_for is not None else "Unscheduling"
    with transaction.atomic():
        slot.begin_change()
        claim = record(slot, kind=Kind.STATUS, actor=user, text=f"{what} in Scripe.")
    try:
        post_update(workspace=slot.workspace, post_id=job.post_id, scheduled_for=scheduled_for)
    except (ScripeInputError, ScripeNotConfigured) as error:
        _undo(slot, claim)
        raise Refusal(str(error)) from None
    except ScripeError as error:
        if _not_made(error):
            _undo(slot, claim)
            raise Refusal(_say(error, doing)) from None
        return _settle_later(slot, job, user, wanted=scheduled_for)
    return None


def scheduled_edit(
    *, slot: PlannedSlot, user, title: str | None, content: str | None, version: str | None
) -> str:
    """Changes the text of a scheduled post: Scripe first, then our copy. `version` is the
    text the manager started from; an edit based on an older one is refused."""
    job = _scheduled_post(slot)
    title, content = post_text(title, content)
    fits_linkedin(content)
    if version is not None and version != job.text_version:
        raise Refusal(edited_meanwhile(slot), stale=True)
    try:
        post = post_update(
            workspace=slot.workspace, post_id=job.post_id, title=title, content=content
        )
    except (ScripeInputError, ScripeNotConfigured) as error:
        raise Refusal(str(error)) from None
    except ScripeError as error:
        raise Refusal(_say(error, "save the text")) from None
    earlier = job.post_content
    with transaction.atomic():
        saved = GenerationJob.objects.filter(pk=job.pk, is_current=True).update(
            post_title=post.title[:500], post_content=post.content
        )
        if saved:
            PlannedSlot.objects.filter(pk=slot.pk).update(updated_at=timezone.now())
            slot.events.create(
                kind=Kind.EDIT, actor=user, text="Text changed in Scripe.", earlier_text=earlier
            )
    return "Saved: Scripe has the new text."


def _not_made(error: ScripeError) -> bool:
    """Scripe said no (4xx), or the request never reached it: the change was not made. After
    a timeout or a 5xx nobody knows; Scripe's copy of the post tells."""
    answered_no = error.http_status is not None and 400 <= error.http_status < 500
    return answered_no or error.code == "connection_error"


def _undo(slot: PlannedSlot, claim) -> None:
    """Back exactly as before the claim: status, times and trail."""
    with transaction.atomic():
        slot.approval_failed()
        claim.delete()


def _settle_later(slot: PlannedSlot, job: GenerationJob, user, *, wanted: datetime | None) -> str:
    """Scripe's answer was lost: its copy of the post says what happened, now or at the
    sweep (`approvals_sweep`, then the sync), and the slot follows it."""
    post = scripe_scheduled(slot, job)
    if post is None:
        return (
            "Scripe did not answer in time, so the change is not certain yet. The post shows "
            "as Scheduling until Scripe confirms, within a few minutes."
        )
    zone = slot.workspace.zone
    with transaction.atomic():
        if post:
            at = post.scheduled_at or slot.scheduled_for
            slot.change_done(scheduled_for=at)
            if wanted is not None and at == wanted:
                record(slot, kind=Kind.STATUS, actor=user, text="Scripe confirmed the new time.")
                return f"Rescheduled to {_local(at, zone)} (Scripe confirmed after a slow answer)."
            record(slot, kind=Kind.STATUS, text="Scripe did not make the change.")
            return f"Scripe did not make the change: it is still scheduled for {_local(at, zone)}."
        who = user.get_full_name() or user.get_username()
        slot.unscheduled_by(who)
        record(slot, kind=Kind.STATUS, actor=user, text="Unscheduled; back in review.")
        return "It is no longer scheduled in Scripe: back in review."
