"""Managers' review of generated drafts: edit, approve (schedules in Scripe), request changes
(generates again with the comment as steering), reject, and new times for missed slots."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from calendar_app.activity import Kind, record
from calendar_app.generation import GenerationRefused, generation_request
from calendar_app.models import PlannedSlot, SlotStatus
from calendar_app.scheduling import schedule_problem
from scripe_integration.client import ScripeError, ScripeInputError
from scripe_integration.services import ScripeNotConfigured, describe_error, post_update

LINKEDIN_LIMIT = 3000
# Scheduling needs a moment to reach LinkedIn; a slot this close to its time counts as missed.
APPROVE_LEAD = timedelta(minutes=1)


class ReviewRefused(Exception):
    """An action the slot's state or Scripe refused, in words for the manager."""


def _draft(slot: PlannedSlot):
    job = slot.current_job
    if slot.status != SlotStatus.IN_REVIEW or job is None or not job.post_id:
        raise ReviewRefused("This slot has no draft waiting for review.")
    return job


def _say(error: ScripeError) -> str:
    if error.code == "conflict":
        return (
            "Scripe could not schedule it: the project's LinkedIn connection is down. "
            "Reconnect it in Scripe, then approve again. The draft stays in review."
        )
    return f"Scripe refused: {describe_error(error)} The draft stays in review."


def draft_save(*, slot: PlannedSlot, user, title: str, content: str) -> str:
    """Keeps the manager's edits, and sends them to Scripe when it can."""
    job = _draft(slot)
    job.post_title, job.post_content = title.strip(), content
    job.save(update_fields=["post_title", "post_content"])
    record(slot, kind=Kind.EDIT, actor=user, text="Draft edited.")
    try:
        post_update(
            workspace=slot.workspace, post_id=job.post_id, title=job.post_title, content=content
        )
    except (ScripeError, ScripeInputError, ScripeNotConfigured):
        return "Saved here. Scripe could not be reached; it gets the text when you approve."
    return "Draft saved and sent to Scripe."


def slot_approve(
    *, slot: PlannedSlot, user, title: str | None = None, content: str | None = None
) -> str:
    """Schedules the post in Scripe for the slot's time, or marks the slot missed when that
    time has passed."""
    job = _draft(slot)
    if title is not None and content is not None:
        job.post_title, job.post_content = title.strip(), content
        job.save(update_fields=["post_title", "post_content"])
    if slot.scheduled_for <= timezone.now() + APPROVE_LEAD:
        slot.mark_missed()
        record(slot, kind=Kind.STATUS, actor=user, text="Its time passed before approval.")
        return "Its time has passed, so it was not scheduled. Pick a new time for it."
    try:
        post_update(
            workspace=slot.workspace,
            post_id=job.post_id,
            title=job.post_title,
            content=job.post_content,
            scheduled_for=slot.scheduled_for,
        )
    except ScripeError as error:
        raise ReviewRefused(_say(error)) from None
    except (ScripeInputError, ScripeNotConfigured) as error:
        raise ReviewRefused(str(error)) from None
    slot.approve()
    record(slot, kind=Kind.STATUS, actor=user, text="Approved and scheduled in Scripe.")
    return "Approved: scheduled in Scripe."


def slot_request_changes(*, slot: PlannedSlot, user, comment: str) -> str:
    """Back to Scripe with the comment as steering; the earlier draft is kept."""
    _draft(slot)
    comment = comment.strip()
    if not comment:
        raise ReviewRefused("Say what should change, so Scripe can do it.")
    with transaction.atomic():
        slot.request_changes(comment)
        record(slot, kind=Kind.COMMENT, actor=user, text=comment)
        try:
            generation_request(slot=slot, user=user, steering=comment)
        except GenerationRefused as refusal:
            return f"Changes requested, but not sent to Scripe yet: {refusal}"
    return "Changes requested: Scripe is writing a new version."


def slot_reject(*, slot: PlannedSlot, user, reason: str) -> str:
    _draft(slot)
    reason = reason.strip()
    if not reason:
        raise ReviewRefused("Give the editor a reason for rejecting it.")
    slot.reject(reason)
    record(slot, kind=Kind.STATUS, actor=user, text=reason)
    return "Rejected."


def slot_new_time(*, slot: PlannedSlot, user, when) -> str:
    if slot.status != SlotStatus.MISSED:
        raise ReviewRefused("Only a missed slot needs a new time here.")
    problem = schedule_problem(when)
    if problem:
        raise ReviewRefused(problem)
    slot.give_new_time(when)
    record(slot, kind=Kind.STATUS, actor=user, text="New time given; back in review.")
    return "New time set: the draft is back in review."


def slot_comment(*, slot: PlannedSlot, user, text: str) -> None:
    text = text.strip()
    if not text:
        raise ReviewRefused("Write a comment first.")
    record(slot, kind=Kind.COMMENT, actor=user, text=text[:5000])
