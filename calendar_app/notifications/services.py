"""Notifications (#17): who is told what happened to a slot or a workspace, in the app and by
email.

One way in for slot events: `trail.record` calls `slot_event_notify` for every entry of the
trail, whoever wrote it (a person, a guest through a review link, the pipeline, the review,
the sync), so no path can forget to tell. `STATUS_EVENTS` maps the status a slot reached to
what people are told, and `AUDIENCE` says who: the workspace's reviewers (managers and
admins), the slot's followers (its creator and its watchers), both, or the workspace's
admins; never the person who did it, and the text names who did it, a guest too ("by guest
Anna Weber"). A status reached again (a reschedule ends `scheduled` as it began) is not
news. Of the other entries only a guest's comment is: the client wrote from outside the app,
where nobody in the team sees it happen (a colleague's comment is made where the team works,
and joining the conversation watches the post). The Scripe key (a signal from
scripe_integration) and the spend cap (the pipeline) tell admins.

Notifications are rows written in the transaction of the event. Email is a separate state
on each row, chosen per person and kind (`EmailChoice`: at once, in the daily digest, or
not at all): tasks enqueued on commit send it, never a web request; a failed send is
recorded on the row and retried with backoff by scheduling the task again, and never
touches the event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from calendar_app.core import metrics
from calendar_app.core.refusals import Refusal
from calendar_app.core.sentences import sentence
from calendar_app.models import (
    EmailChoice,
    Notification,
    NotificationKind,
    NotificationPreference,
    PlannedSlot,
    Profile,
    Role,
    SlotEvent,
    SlotStatus,
    SlotWatch,
    Workspace,
)
from scripe_integration.sentences import translated
from scripe_integration.signals import key_refused

logger = logging.getLogger(__name__)

K = NotificationKind

# The status a slot reached → what people are told. (A request for changes shows in the
# trail as the rewrite it starts, `queued` with the manager's comment as steering; see
# `_kind_for`.)
STATUS_EVENTS = {
    SlotStatus.IN_REVIEW: K.REVIEW_READY,
    SlotStatus.CHANGES_REQUESTED: K.CHANGES_REQUESTED,
    SlotStatus.REJECTED: K.REJECTED,
    SlotStatus.SCHEDULED: K.APPROVED,
    SlotStatus.PUBLISHED: K.PUBLISHED,
    SlotStatus.FAILED: K.FAILED,
    SlotStatus.MISSED: K.MISSED,
    SlotStatus.REMOVED: K.REMOVED,
}
REVIEWERS, FOLLOWERS, ADMINS = "reviewers", "followers", "admins"
CONCERNED = "reviewers and followers"
AUDIENCE = {
    K.REVIEW_READY: REVIEWERS,
    K.CHANGES_REQUESTED: FOLLOWERS,
    K.REJECTED: FOLLOWERS,
    K.APPROVED: FOLLOWERS,
    K.PUBLISHED: FOLLOWERS,
    K.FAILED: FOLLOWERS,
    K.MISSED: FOLLOWERS,
    K.REMOVED: FOLLOWERS,
    # The client's word on a draft: the reviewers decide on it (approve, send back with the
    # client's wishes), and its creator and watchers planned it and write the next one.
    K.GUEST_COMMENT: CONCERNED,
    K.KEY_INVALID: ADMINS,
    K.SPEND_CAP: ADMINS,
    K.WEBHOOK_DISABLED: ADMINS,
}
# What a person gets by email until they choose: at once for what needs them, the digest
# for good news.
DEFAULT_EMAIL = {kind: EmailChoice.IMMEDIATE for kind in K} | {
    K.APPROVED: EmailChoice.DIGEST,
    K.PUBLISHED: EmailChoice.DIGEST,
}
# The short words of a notification, before the slot's project and time.
HEADLINES = {
    K.REVIEW_READY: gettext_lazy("Ready for review"),
    K.CHANGES_REQUESTED: gettext_lazy("Changes requested"),
    K.REJECTED: gettext_lazy("Rejected"),
    K.APPROVED: gettext_lazy("Approved and scheduled"),
    K.PUBLISHED: gettext_lazy("Published"),
    K.FAILED: gettext_lazy("Generation failed"),
    K.MISSED: gettext_lazy("Missed its time"),
    K.REMOVED: gettext_lazy("Removed in Scripe"),
    K.GUEST_COMMENT: gettext_lazy("Client comment"),
}

# What emails of each kind are about, as "Stop emails about …" says it (#24): the kinds'
# labels are sentences ("A draft was rejected"), which that phrase cannot take.
ABOUT = {
    K.REVIEW_READY: gettext_lazy("drafts ready for review"),
    K.CHANGES_REQUESTED: gettext_lazy("requests for changes"),
    K.REJECTED: gettext_lazy("rejected drafts"),
    K.APPROVED: gettext_lazy("approved posts"),
    K.PUBLISHED: gettext_lazy("published posts"),
    K.FAILED: gettext_lazy("failed generations"),
    K.MISSED: gettext_lazy("drafts that missed their time"),
    K.REMOVED: gettext_lazy("posts removed in Scripe"),
    K.GUEST_COMMENT: gettext_lazy("clients' comments through review links"),
    K.KEY_INVALID: gettext_lazy("Scripe keys that stop working"),
    K.SPEND_CAP: gettext_lazy("Scripe's daily spend cap"),
    K.WEBHOOK_DISABLED: gettext_lazy("webhook endpoints turned off after failing"),
}


def email_state(choice: str | None) -> str:
    """A notification's email state for a person's choice of email for its kind."""
    states = {
        EmailChoice.IMMEDIATE: Notification.Email.PENDING,
        EmailChoice.DIGEST: Notification.Email.DIGEST,
    }
    return states.get(choice, Notification.Email.NONE)


# A failed send is tried again after these many seconds; after the last, it is failed.
RETRY_DELAYS = (60, 300, 1800)
MAX_EMAIL_ATTEMPTS = len(RETRY_DELAYS) + 1
EMAIL_TASK = "calendar_app.tasks.send_notification_email"
DIGEST_TASK = "calendar_app.tasks.send_notification_digest"
UNSUBSCRIBE_SALT = "calendar_app.notifications.unsubscribe"


# slot events ----------------------------------------------------------------------------------


def slot_event_notify(*, slot: PlannedSlot, event: SlotEvent) -> list[Notification]:
    """Tells the right people about an entry of the slot's trail, if it is news (see the
    module's docstring). Called by `trail.record`, inside the event's transaction."""
    kind = _kind_for(slot, event)
    if kind is None:
        return []
    users = _audience(kind, workspace_id=slot.workspace_id, slot=slot)
    if event.actor_id is not None:
        users = users.exclude(pk=event.actor_id)  # a guest has no account to leave out
    zone = slot.workspace.zone
    when = timezone.localtime(slot.scheduled_for, zone)

    def text() -> str:
        # Called once per reader, in their language (see `_notify`).
        said = _("%(headline)s: %(project)s, %(when)s") % {
            "headline": HEADLINES[kind],
            "project": slot.project.name,
            "when": date_format(when, _("D j M H:i")),
        }
        if event.actor_id is not None or event.guest_name:
            said += " " + _("(by %(who)s)") % {"who": event.who}
        return said

    def detail() -> str:
        # The trail's fixed sentences ("Planned.") are messages of the catalogue; a person's
        # own words are not, and stay as written.
        return event.sentence

    return _notify(
        users, kind=kind, workspace_id=slot.workspace_id, slot=slot, text=text, detail=detail
    )


def _kind_for(slot: PlannedSlot, event: SlotEvent) -> str | None:
    if event.kind == SlotEvent.Kind.COMMENT:
        return K.GUEST_COMMENT if event.guest_name else None
    if event.kind != SlotEvent.Kind.STATUS:
        return None
    status = event.status
    if status == SlotStatus.QUEUED:
        # The rewrite a request for changes starts carries the comment as steering.
        asked = slot.jobs.filter(is_current=True).exclude(steering="").exists()
        return K.CHANGES_REQUESTED if asked else None
    kind = STATUS_EVENTS.get(status)
    if kind is None:
        return None
    before = (
        slot.events.filter(kind=SlotEvent.Kind.STATUS)
        .exclude(pk=event.pk)
        .exclude(status=SlotStatus.APPROVING)  # a claim, not a state anyone is told of
        .order_by("-created_at", "-id")
        .values_list("status", flat=True)
        .first()
    )
    return None if before == status else kind


def _audience(kind: str, *, workspace_id: int, slot: PlannedSlot | None = None):
    """The active members of the workspace who hear of `kind`. The role is the one they
    have in this workspace (one filter over the membership, not one per condition, which
    would accept a manager of another workspace)."""
    members = get_user_model().objects.filter(is_active=True)
    audience = AUDIENCE[kind]

    def with_role(*roles: str):
        return members.filter(memberships__workspace_id=workspace_id, memberships__role__in=roles)

    if audience == ADMINS:
        return with_role(Role.ADMIN)
    reviewers = with_role(Role.MANAGER, Role.ADMIN)
    if audience == REVIEWERS:
        return reviewers
    watchers = SlotWatch.objects.filter(slot=slot).values("user_id")
    followers = members.filter(memberships__workspace_id=workspace_id).filter(
        Q(pk=slot.created_by_id) | Q(pk__in=watchers)
    )
    if audience == FOLLOWERS:
        return followers
    return members.filter(Q(pk__in=followers.values("pk")) | Q(pk__in=reviewers.values("pk")))


def language_of(user_or_id) -> str:
    """The language a person reads what the app sends them in: their profile's, else the
    site's default (an email has no browser to ask)."""
    user_id = getattr(user_or_id, "pk", user_or_id)
    chosen = Profile.objects.filter(user_id=user_id).values_list("language", flat=True).first()
    return chosen or settings.LANGUAGE_CODE


def _in_language(language: str, words: Callable[[], str] | str) -> str:
    if isinstance(words, str):
        return words
    with translation.override(language):
        return str(words())


def _notify(
    users,
    *,
    kind: str,
    workspace_id: int,
    text: Callable[[], str] | str,
    detail: Callable[[], str] | str = "",
    slot: PlannedSlot | None = None,
    dedupe_key: str = "",
) -> list[Notification]:
    """One row for each user, with the email each one chose; sends the immediate ones once
    the transaction commits. `text` and `detail` are functions called in each reader's
    language (the row stores the words they read, in the list and in the email)."""
    users = list(users.only("pk", "email"))
    if not users:
        return []
    chosen = dict(
        NotificationPreference.objects.filter(user__in=users, kind=kind).values_list(
            "user_id", "email"
        )
    )
    languages = dict(Profile.objects.filter(user__in=users).values_list("user_id", "language"))
    rows = [
        Notification(
            user=user,
            workspace_id=workspace_id,
            slot=slot,
            kind=kind,
            text=_in_language(lang, text)[:500],
            detail=_in_language(lang, detail),
            dedupe_key=dedupe_key,
            email=email_state(chosen.get(user.pk, DEFAULT_EMAIL[kind]))
            if user.email
            else Notification.Email.NONE,
        )
        for user in users
        for lang in [languages.get(user.pk) or settings.LANGUAGE_CODE]
    ]
    if dedupe_key:
        made = []
        for row in rows:
            try:
                with transaction.atomic():
                    row.save()
            except IntegrityError:
                continue  # told already
            made.append(row)
        rows = made
    else:
        rows = Notification.objects.bulk_create(rows)
    immediate = [row.pk for row in rows if row.email == Notification.Email.PENDING]
    if immediate:
        transaction.on_commit(lambda: enqueue_emails(immediate))
    return rows


def enqueue_emails(notification_ids: Iterable[int]) -> None:
    from django_q.tasks import async_task

    for pk in notification_ids:
        async_task(EMAIL_TASK, pk, task_name=f"notification-email-{pk}", group="notifications")


# workspace events -----------------------------------------------------------------------------


def key_invalid_notify(
    *, workspace_id: int, message: str, by_oauth: bool = False
) -> list[Notification]:
    """Tells the workspace's admins that Scripe refuses its key (or, `by_oauth`, no longer
    accepts its connection); generation is blocked until one of them mends it."""
    workspace = Workspace.objects.get(pk=workspace_id)
    if by_oauth:
        return _notify(
            _audience(K.KEY_INVALID, workspace_id=workspace_id),
            kind=K.KEY_INVALID,
            workspace_id=workspace_id,
            text=lambda: (
                _(
                    "Scripe no longer accepts the connection of %(workspace)s: nothing can be "
                    "generated"
                )
                % {"workspace": workspace.name}
            ),
            detail=lambda: translated(message),
        )
    return _notify(
        _audience(K.KEY_INVALID, workspace_id=workspace_id),
        kind=K.KEY_INVALID,
        workspace_id=workspace_id,
        text=lambda: (
            _("Scripe refuses the key of %(workspace)s: nothing can be generated")
            % {"workspace": workspace.name}
        ),
        detail=lambda: (
            translated(message)
            + " "
            + _("Enter a working key in the admin (the workspace's page).")
        ),
    )


def spend_cap_notify(
    *, workspace_id: int, spent: int | None = None, cap: int | None = None
) -> list[Notification]:
    """Tells the workspace's admins that Scripe's daily spend cap is reached, once a UTC day
    however many generations fail on it; `spent` and `cap` in cents, as Scripe said them."""
    day = datetime.now(UTC).date().isoformat()
    workspace = Workspace.objects.get(pk=workspace_id)
    return _notify(
        _audience(K.SPEND_CAP, workspace_id=workspace_id),
        kind=K.SPEND_CAP,
        workspace_id=workspace_id,
        text=lambda: (
            _("Scripe's daily spend cap is reached for %(workspace)s")
            % {"workspace": workspace.name}
        ),
        detail=lambda: (
            (
                _("%(spent)s of %(cap)s cents spent.") % {"spent": spent, "cap": cap} + " "
                if spent is not None and cap
                else ""
            )
            + _("Generations fail until it resets at 00:00 UTC; retry them after that.")
        ),
        dedupe_key=f"spend_cap:{workspace_id}:{day}",
    )


def webhook_disabled_notify(*, workspace_id: int, url: str, reason: str) -> list[Notification]:
    """Tells the workspace's admins that an endpoint was turned off after failing for a day:
    nothing more is sent to it until one of them turns it on again (the Webhooks page)."""
    workspace = Workspace.objects.get(pk=workspace_id)
    return _notify(
        _audience(K.WEBHOOK_DISABLED, workspace_id=workspace_id),
        kind=K.WEBHOOK_DISABLED,
        workspace_id=workspace_id,
        text=lambda: (
            _("Webhook endpoint %(url)s of %(workspace)s was turned off")
            % {"url": url, "workspace": workspace.name}
        ),
        detail=lambda: (
            reason
            + " "
            + _(
                "Fix the receiver, then turn the endpoint on again on the Webhooks page and send "
                "the failed deliveries again."
            )
        ),
    )


@receiver(key_refused, dispatch_uid="calendar_app.notifications.key_refused")
def _on_key_refused(sender, *, connection, message: str, **kwargs) -> None:
    key_invalid_notify(
        workspace_id=connection.workspace_id, message=message, by_oauth=connection.uses_oauth
    )


# in the app ------------------------------------------------------------------------------------


def notification_read(*, user, public_id) -> bool:
    """Marks one of the person's notifications read; False when it is not theirs (or read)."""
    rows = Notification.objects.filter(user=user, public_id=public_id, read_at__isnull=True)
    return bool(rows.update(read_at=timezone.now()))


def notifications_read_all(*, user, workspace_ids=None) -> int:
    """Marks the person's unread notifications read (of these workspaces only, when given:
    an API token sees its own workspace's); returns how many."""
    rows = Notification.objects.filter(user=user, read_at__isnull=True)
    if workspace_ids is not None:
        rows = rows.filter(workspace_id__in=list(workspace_ids))
    return rows.update(read_at=timezone.now())


# watching ---------------------------------------------------------------------------------------


def slot_watch(*, slot: PlannedSlot, user) -> None:
    """The person hears what happens to the slot from now on (its creator always does)."""
    SlotWatch.objects.get_or_create(slot=slot, user=user)


def slot_unwatch(*, slot: PlannedSlot, user) -> None:
    SlotWatch.objects.filter(slot=slot, user=user).delete()


# preferences -------------------------------------------------------------------------------------


def preferences_for(user) -> dict[str, str]:
    """Every kind with the person's email choice (the default where they made none)."""
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "email"))
    return {kind: chosen.get(kind, DEFAULT_EMAIL[kind]) for kind in K}


def preferences_update(*, user, choices: dict[str, str]) -> None:
    """Stores the person's email choice for each kind given. Turning a kind off also drops
    what waits to be sent of it (immediate or in the next digest)."""
    with transaction.atomic():
        for kind, email in choices.items():
            if kind not in K.values or email not in EmailChoice.values:
                raise ValueError(f"no such choice: {kind} → {email}")
            NotificationPreference.objects.update_or_create(
                user=user, kind=kind, defaults={"email": email}
            )
        off = [kind for kind, email in choices.items() if email == EmailChoice.OFF]
        Notification.objects.filter(
            user=user,
            kind__in=off,
            email__in=[Notification.Email.PENDING, Notification.Email.DIGEST],
        ).update(email=Notification.Email.NONE)


def unsubscribe_token(user, kind: str | None = None) -> str:
    """A signed token for an unsubscribe link: one kind, or (None) all email. Without
    expiry, so the link of an old email still works."""
    return signing.dumps({"u": user.pk, "k": kind or ""}, salt=UNSUBSCRIBE_SALT)


class UnsubscribeGone(Refusal):
    """A real unsubscribe link whose account was deleted after the email went out: nobody
    is left to unsubscribe, and no email goes to it any more (410)."""

    def __init__(self) -> None:
        super().__init__(_("This link no longer applies."), status=410)


def unsubscribe_read(token: str):
    """(user, kind or None) of a token; None when it is not one of ours. Raises
    UnsubscribeGone when it is ours but its account no longer exists."""
    User = get_user_model()
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        user = User.objects.get(pk=data["u"])
        kind = data["k"] or None
        if kind is not None:
            kind = K(kind)
    except User.DoesNotExist:
        raise UnsubscribeGone from None
    except (signing.BadSignature, KeyError, TypeError, ValueError, LookupError):
        return None
    return user, kind


def email_unsubscribe(*, user, kind: str | None) -> str:
    """Turns off email of one kind, or all of it. Returns what was done, in words."""
    kinds = [kind] if kind else list(K)
    preferences_update(user=user, choices=dict.fromkeys(kinds, EmailChoice.OFF))
    if kind:
        return _("You will get no more emails about %(what)s.") % {"what": ABOUT[kind]}
    return _("You will get no more emails from us.")


# sending ------------------------------------------------------------------------------------


def _absolute(path: str) -> str:
    base = settings.EMAIL_LINK_BASE_URL
    return base.rstrip("/") + path


def unsubscribe_url(user, kind: str | None = None) -> str:
    return _absolute(reverse("unsubscribe", args=[unsubscribe_token(user, kind)]))


def _footer(user, kind: str | None) -> str:
    if kind:
        stop = _("Stop emails about %(what)s: %(url)s") % {
            "what": ABOUT[kind],
            "url": unsubscribe_url(user, kind),
        }
    else:
        stop = _("Stop all emails: %(url)s") % {"url": unsubscribe_url(user, kind)}
    choose = _("Choose what you get by email: %(url)s") % {"url": _absolute(reverse("settings"))}
    return f"\n--\n{choose}\n{stop}\n"


def _link(notification: Notification) -> str:
    if notification.slot_id:
        return _absolute(reverse("slot", args=[notification.slot.public_id]))
    return _absolute(reverse("notifications"))


def _message(user, subject: str, body: str, *, kind: str | None) -> EmailMessage:
    """The email; called inside translation.override(the recipient's language)."""
    return EmailMessage(
        subject=f"[{settings.PRODUCT_NAME}] {subject}"[:200],
        body=body + _footer(user, kind),
        to=[user.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url(user, kind)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def notification_email(row: Notification) -> EmailMessage:
    """One notification's email, in its recipient's language whoever's action caused it (the
    row's own words already are: `_notify` wrote them in it)."""
    body = sentence(row.text) + "\n\n" + (f"{row.detail}\n\n" if row.detail else "")
    body += _link(row) + "\n"
    with translation.override(language_of(row.user)):
        return _message(row.user, row.text, body, kind=row.kind)


def notification_email_send(*, notification_id: int) -> str:
    """Sends one notification's email. The row is claimed first (pending → sending, with a
    conditional UPDATE), so a task delivered twice sends once. A failure is recorded on the
    row and the task is scheduled again after RETRY_DELAYS; after the last try the row says
    failed. Returns what happened, for the task's result."""
    row = (
        Notification.objects.select_related("user", "slot")
        .filter(pk=notification_id, email=Notification.Email.PENDING)
        .first()
    )
    if row is None:
        return "nothing to send"
    claimed = Notification.objects.filter(
        pk=row.pk, email=Notification.Email.PENDING, email_attempts=row.email_attempts
    ).update(
        email=Notification.Email.SENDING,
        email_attempts=F("email_attempts") + 1,
        email_state_at=timezone.now(),
    )
    if not claimed:
        return "sent by another task"
    attempts = row.email_attempts + 1
    try:
        notification_email(row).send()
    except Exception as error:  # whatever the backend raised, the row says it
        metrics.EMAILS.labels("notification", "failed").inc()
        return _send_failed([row.pk], attempts, error, EMAIL_TASK, row.pk, back_to="pending")
    metrics.EMAILS.labels("notification", "sent").inc()
    _sent([row.pk])
    return "sent"


def notifications_digest() -> int:
    """Daily: one email per person with everything that waited for their digest since the
    last one. Returns how many people were sent one (or tried)."""
    people = (
        Notification.objects.filter(email=Notification.Email.DIGEST)
        .order_by()  # the default ordering would make `distinct` see one row per notification
        .values_list("user_id", flat=True)
        .distinct()
    )
    sent = 0
    for user_id in list(people):
        notification_digest_send(user_id=user_id)
        sent += 1
    return sent


def notification_digest_send(*, user_id: int) -> str:
    """One person's digest: claims their waiting rows, sends one email listing them, and
    marks them sent; a failure puts them back for a retry (RETRY_DELAYS), then failed."""
    with transaction.atomic():
        waiting = Notification.objects.select_for_update(skip_locked=True).filter(
            user_id=user_id, email=Notification.Email.DIGEST
        )
        ids = list(waiting.values_list("pk", flat=True))
        if not ids:
            return "nothing to send"
        Notification.objects.filter(pk__in=ids).update(
            email=Notification.Email.SENDING,
            email_attempts=F("email_attempts") + 1,
            email_state_at=timezone.now(),
        )
    rows = list(
        Notification.objects.filter(pk__in=ids)
        .select_related("user", "slot", "workspace")
        .order_by("created_at", "id")
    )
    user = rows[0].user
    attempts = max(row.email_attempts for row in rows)
    with translation.override(language_of(user)):
        lines = []
        for row in rows:
            when = timezone.localtime(row.created_at, row.workspace.zone)
            lines.append(f"- {date_format(when, _('D j M H:i'))}  {sentence(row.text)}")
            if row.detail:
                lines.append(f"  {row.detail}")
            lines.append(f"  {_link(row)}")
        count = len(rows)
        subject = ngettext(
            "%(count)d update since your last digest",
            "%(count)d updates since your last digest",
            count,
        ) % {"count": count}
        body = _("What happened since your last digest:") + "\n\n" + "\n".join(lines) + "\n"
        message = _message(user, subject, body, kind=None)
    try:
        message.send()
    except Exception as error:  # whatever the backend raised, the row says it
        metrics.EMAILS.labels("digest", "failed").inc()
        return _send_failed(ids, attempts, error, DIGEST_TASK, user_id, back_to="digest")
    metrics.EMAILS.labels("digest", "sent").inc()
    _sent(ids)
    return "sent"


def _sent(ids: list[int]) -> None:
    now = timezone.now()
    Notification.objects.filter(pk__in=ids, email=Notification.Email.SENDING).update(
        email=Notification.Email.SENT, emailed_at=now, email_error="", email_state_at=now
    )


def _send_failed(
    ids: list[int], attempts: int, error: Exception, task: str, arg: int, *, back_to: str
) -> str:
    why = f"{type(error).__name__}: {error}"[:300]
    logger.warning("notification email %s failed (try %s): %s", ids, attempts, why)
    state = Notification.Email.FAILED if attempts >= MAX_EMAIL_ATTEMPTS else back_to
    Notification.objects.filter(pk__in=ids, email=Notification.Email.SENDING).update(
        email=state, email_error=why, email_state_at=timezone.now()
    )
    if state == Notification.Email.FAILED:
        return f"failed for good: {why}"
    delay = RETRY_DELAYS[attempts - 1]
    _retry_later(task, arg, seconds=delay)
    return f"failed, retrying in {delay} s: {why}"


# A send takes seconds (the SMTP timeout is EMAIL_TIMEOUT): a row "sending" this long lost
# its worker. A row to be sent this long (longer than any retry's delay) lost its task.
STUCK_SENDING = timedelta(minutes=10)
LOST_PENDING = timedelta(seconds=max(RETRY_DELAYS), minutes=10)
SWEEP_BATCH = 200
INTERRUPTED = "Interrupted while sending (a worker stopped)."


def notification_emails_sweep(*, now: datetime | None = None) -> int:
    """Every minute: rows a dead worker left "sending" go back to what their person asks for
    now (to be sent, the digest, nothing), or to failed after the last try; whether that
    email went out is unknown, and a second one is better than none. Rows to be sent whose
    task was lost (a worker killed, a broker emptied) are handed to a task again; the task's
    claim keeps it to one email. Returns how many rows it handed on."""
    now = now or timezone.now()
    stuck = Notification.objects.filter(
        email=Notification.Email.SENDING, email_state_at__lt=now - STUCK_SENDING
    ).values_list("pk", "user_id", "kind", "email_attempts")[:SWEEP_BATCH]
    stuck = list(stuck)
    preferences = NotificationPreference.objects.filter(user_id__in={row[1] for row in stuck})
    rows = preferences.values_list("user_id", "kind", "email")
    chosen = {(user_id, kind): email for user_id, kind, email in rows}
    handed = []
    for pk, user_id, kind, attempts in stuck:
        choice = chosen.get((user_id, kind), DEFAULT_EMAIL.get(kind))
        state = email_state(choice)
        if attempts >= MAX_EMAIL_ATTEMPTS and state != Notification.Email.NONE:
            state = Notification.Email.FAILED
        moved = Notification.objects.filter(
            pk=pk, email=Notification.Email.SENDING, email_state_at__lt=now - STUCK_SENDING
        ).update(
            email=state,
            email_state_at=now,
            email_error=INTERRUPTED,
        )
        if moved and state == Notification.Email.PENDING:
            handed.append(pk)
    lost = Notification.objects.filter(
        email=Notification.Email.PENDING, email_state_at__lt=now - LOST_PENDING
    ).values_list("pk", flat=True)[:SWEEP_BATCH]
    for pk in list(lost):
        # Moving the time claims the row for this sweep: the next one leaves it to the task.
        if Notification.objects.filter(
            pk=pk, email=Notification.Email.PENDING, email_state_at__lt=now - LOST_PENDING
        ).update(email_state_at=now):
            handed.append(pk)
    if handed:
        transaction.on_commit(lambda: enqueue_emails(handed))
    return len(handed)


def _retry_later(task: str, arg: int, *, seconds: int) -> None:
    """A one-off django-q2 schedule: the cluster runs the task again after `seconds`, and the
    worker that failed is free meanwhile."""
    from django_q.models import Schedule
    from django_q.tasks import schedule

    schedule(
        task,
        arg,
        schedule_type=Schedule.ONCE,
        next_run=timezone.now() + timedelta(seconds=seconds),
    )
