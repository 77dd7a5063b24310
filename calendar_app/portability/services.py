"""Writes about data leaving and coming back: an admin's export of a workspace (asked for in
a request, built by a task), a site operator's deletion of a workspace with everything in it,
and erasing a person's data on request."""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from calendar_app.core.refusals import Refusal
from calendar_app.models import (
    EXPORT_KEEP,
    ExportStatus,
    GenerationJob,
    KnowledgeDocument,
    Notification,
    PlannedSlot,
    Series,
    Source,
    WebhookDelivery,
    Workspace,
    WorkspaceExport,
)
from calendar_app.portability.archive import write_archive
from calendar_app.portability.people import FORMER_MEMBER_USERNAME, former_member

logger = logging.getLogger(__name__)

EXPORT_TASK = "calendar_app.tasks.build_workspace_export"


def export_dir() -> Path:
    """Where archives wait for download (shared by the web server and the workers)."""
    configured = getattr(settings, "EXPORT_DIR", "") or os.path.join(
        tempfile.gettempdir(), "scripe-calendar-exports"
    )
    path = Path(configured)
    path.mkdir(parents=True, exist_ok=True)
    return path


# Export --------------------------------------------------------------------------------------


def workspace_export_request(*, workspace: Workspace, user) -> WorkspaceExport:
    """Starts an export of the workspace (the caller checked the user is its admin). One at a
    time: while one is being prepared, asking again is refused (the page shows that one)."""
    pending = WorkspaceExport.objects.filter(
        workspace=workspace, status=ExportStatus.PENDING
    ).first()
    if pending is not None:
        raise Refusal(_("An export of this workspace is already being prepared."))
    export = WorkspaceExport.objects.create(workspace=workspace, requested_by=user)
    transaction.on_commit(lambda: _enqueue(export.pk))
    return export


def _enqueue(export_id: int) -> None:
    from django_q.tasks import async_task

    async_task(EXPORT_TASK, export_id, task_name=f"export-{export_id}", group="exports")


def workspace_export_build(*, export_id: int) -> str:
    """Writes the archive of a pending export to disk and marks it ready (or failed, with
    the reason the admin sees). A retried task finds it no longer pending and stops."""
    export = (
        WorkspaceExport.objects.select_related("workspace")
        .filter(pk=export_id, status=ExportStatus.PENDING)
        .first()
    )
    if export is None:
        return "not pending"
    path = export_dir() / f"{export.public_id}.zip"
    try:
        with open(path, "wb") as stream:
            write_archive(workspace=export.workspace, stream=stream)
    except Exception:
        logger.exception("Export %s failed", export.public_id)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        # Stored for the admin who reads it later, in their language; the log has the why.
        export.fail(message=gettext_noop("The archive could not be written. Try again."))
        return "failed"
    if not export.finish(path=str(path), size_bytes=path.stat().st_size):
        path.unlink()
        return "not pending"
    return "ready"


def exports_forget() -> int:
    """Deletes archives past their download window (the rows stay, saying they expired)."""
    cutoff = timezone.now() - EXPORT_KEEP
    expired = list(
        WorkspaceExport.objects.filter(finished_at__lt=cutoff).exclude(path="").only("pk", "path")
    )
    for export in expired:
        _unlink(export.path)
    WorkspaceExport.objects.filter(pk__in=[e.pk for e in expired]).update(path="")
    return len(expired)


# Deletion ------------------------------------------------------------------------------------


def _deletion_steps(workspace: Workspace) -> list:
    """What to delete, in an order the schema allows: series and posts protect their
    projects and notes (PROTECT, so a project is never deleted from under its posts), so
    they go before the workspace cascades to the rest."""
    return [
        Series.objects.filter(workspace=workspace),
        PlannedSlot._base_manager.filter(workspace=workspace),
        Workspace.objects.filter(pk=workspace.pk),
    ]


def _delete_rows(workspace: Workspace) -> dict[str, int]:
    """Deletes the workspace's rows; returns the count of each kind ("posts": 12, …)."""
    counts: dict[str, int] = {}
    for step in _deletion_steps(workspace):
        for label, n in step.delete()[1].items():
            name = str(apps.get_model(label)._meta.verbose_name_plural)
            counts[name] = counts.get(name, 0) + n
    return {name: n for name, n in sorted(counts.items()) if n}


def workspace_contents(workspace: Workspace) -> dict[str, int]:
    """What deleting the workspace deletes, by kind: the deletion itself, rolled back, so the
    count is exactly what it will do, every cascade included (Django's collector alone stops
    at the posts that protect their projects)."""
    with transaction.atomic():
        counts = _delete_rows(workspace)
        transaction.set_rollback(True)
    return counts


@dataclass
class Deletion:
    counts: dict[str, int]
    files_removed: int
    tasks_dropped: int


def workspace_delete(*, workspace: Workspace) -> Deletion:
    """Deletes the workspace with everything in it, the files the app keeps for it (uploaded
    sources and knowledge documents not yet sent, export archives) and the tasks queued for
    its rows. Files go once the deletion is committed, so a rollback loses none."""
    files = [
        *Source.objects.filter(workspace=workspace)
        .exclude(local_path="")
        .values_list("local_path", flat=True),
        *KnowledgeDocument.objects.filter(workspace=workspace)
        .exclude(local_path="")
        .values_list("local_path", flat=True),
        *WorkspaceExport.objects.filter(workspace=workspace)
        .exclude(path="")
        .values_list("path", flat=True),
    ]
    ids = _queued_ids(workspace)
    with transaction.atomic():
        counts = _delete_rows(workspace)
        dropped = _drop_queued_tasks(ids)
    removed = sum(_unlink(path) for path in files)
    return Deletion(counts=counts, files_removed=removed, tasks_dropped=dropped)


def _queued_ids(workspace: Workspace) -> dict[str, set[int]]:
    """The ids a queued task of this workspace would carry, by task."""
    return {
        "calendar_app.tasks.advance_generations": set(
            GenerationJob.objects.filter(slot__workspace=workspace).values_list("pk", flat=True)
        ),
        "calendar_app.tasks.advance_generation": set(
            GenerationJob.objects.filter(slot__workspace=workspace).values_list("pk", flat=True)
        ),
        "calendar_app.tasks.advance_sources": set(
            Source.objects.filter(workspace=workspace).values_list("pk", flat=True)
        ),
        "calendar_app.tasks.announce_source_ready": set(
            Source.objects.filter(workspace=workspace).values_list("pk", flat=True)
        ),
        "calendar_app.tasks.advance_knowledge": set(
            KnowledgeDocument.objects.filter(workspace=workspace).values_list("pk", flat=True)
        ),
        "calendar_app.tasks.send_webhook": set(
            WebhookDelivery.objects.filter(endpoint__workspace=workspace).values_list(
                "pk", flat=True
            )
        ),
        "calendar_app.tasks.send_notification_email": set(
            Notification.objects.filter(workspace=workspace).values_list("pk", flat=True)
        ),
        "calendar_app.tasks.sync_workspace": {workspace.pk},
        EXPORT_TASK: set(
            WorkspaceExport.objects.filter(workspace=workspace).values_list("pk", flat=True)
        ),
    }


def _drop_queued_tasks(ids: dict[str, set[int]]) -> int:
    """Removes the queued django-q2 tasks that would act on the deleted rows, where the queue
    is the database (the ORM broker). Elsewhere (Redis) such a task finds no row and stops:
    every task takes ids and loads its rows first."""
    if "orm" not in settings.Q_CLUSTER:
        return 0
    from django_q.models import OrmQ

    doomed = []
    for queued in OrmQ.objects.all():
        # An unreadable package comes back as {"id": "*<error>"}: no func, so it stays.
        task = queued.task
        wanted = ids.get(task.get("func", ""), set())
        carried: set[int] = set()
        for arg in task.get("args", ()):
            carried.update(arg if isinstance(arg, list | tuple) else [arg])
        if wanted & carried:
            doomed.append(queued.pk)
    return OrmQ.objects.filter(pk__in=doomed).delete()[0]


def _unlink(path: str) -> int:
    try:
        os.unlink(path)
    except FileNotFoundError:
        return 0
    return 1


# Erasure -------------------------------------------------------------------------------------


@dataclass
class Erasure:
    reattributed: int
    deleted: dict[str, int]
    sessions: int


def person_erase(*, email: str) -> Erasure:
    """Erases a person on request: their posts, notes, comments and trail entries stay, now by
    "A former member"; their account, memberships, tokens, feeds, notifications, watches and
    sessions are deleted. Every relation to the account that the schema keeps when the account
    goes (SET_NULL) is moved to the former member; the rest cascades with the account."""
    User = get_user_model()
    people = list(User._base_manager.filter(email__iexact=email.strip()))
    if not people:
        raise Refusal(_("Nobody has the email address %(email)s.") % {"email": email})
    if len(people) > 1:
        raise Refusal(
            _("%(count)s accounts have the email address %(email)s; erase them in the admin.")
            % {"count": len(people), "email": email}
        )
    person = people[0]
    if person.username == FORMER_MEMBER_USERNAME:
        raise Refusal(_("That is the former members' account."))
    with transaction.atomic():
        stand_in = former_member()
        moved = 0
        # Hidden ones too: most "by whom" fields have no reverse name (related_name="+").
        for relation in User._meta.get_fields(include_hidden=True):
            if (
                relation.auto_created
                and not relation.concrete
                and getattr(relation, "on_delete", None) is models.SET_NULL
            ):
                moved += relation.related_model._base_manager.filter(
                    **{relation.field.name: person}
                ).update(**{relation.field.name: stand_in})
        sessions = _sessions_of(person.pk)
        Session.objects.filter(session_key__in=sessions).delete()
        _total, deleted = person.delete()
    return Erasure(
        reattributed=moved,
        deleted={label.split(".")[-1]: n for label, n in deleted.items() if n},
        sessions=len(sessions),
    )


def _sessions_of(user_id: int) -> list[str]:
    """The keys of the database sessions logged in as the user (decoded: the id is inside)."""
    keys = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user_id):
            keys.append(session.session_key)
    return keys
