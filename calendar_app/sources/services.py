"""Sources (#26): what an editor hands Scripe (a recording, a document, a text or a link),
and planning posts from the hooks Scripe found in it.

An uploaded file arrives on disk (Django's temporary-file upload handler; never in memory),
is checked for its type and size against Scripe's caps, and moved to the app's own source
directory under the source's id (never its name: names stay out of paths and logs). The
steps to Scripe run in tasks (`ingest.py`); this module creates the row and hands it on.
`upload_file` is the reusable step "upload this local file to Scripe, give me the uploadId".
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from calendar_app.core.refusals import Refusal
from calendar_app.models import (
    PLANNABLE_IDEA_STATES,
    HookPlan,
    Idea,
    KnowledgeDocument,
    PlannedSlot,
    Project,
    Source,
    SourceKind,
)
from calendar_app.pipeline import dispatch
from calendar_app.planning import queue as planning_queue
from scripe_integration.client import ScripeClient
from scripe_integration.contract import TEXT_SOURCE_MAX_BYTES, Upload, upload_cap
from scripe_integration.destinations import DestinationRefused, NameNotFound, check_url

logger = logging.getLogger(__name__)

MB = 1024 * 1024
# What the upload form takes, by file name ending; the type sent to Scripe is ours, not the
# browser's guess.
ACCEPTED_TYPES = {
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".wav": "audio/wav",
    ".ogg": "audio/ogg",
    ".aac": "audio/aac",
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
    ".webm": "video/webm",
    ".pdf": "application/pdf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".ppt": "application/vnd.ms-powerpoint",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".txt": "text/plain",
}
# The largest cap of all (audio and video): a request above it is cut off while it streams.
LARGEST_CAP = 500 * MB
KIND_WORDS = {
    "audio": gettext_lazy("recordings"),
    "video": gettext_lazy("videos"),
    "text": gettext_lazy("text files"),
}


def storage_dir() -> Path:
    """Where the app keeps a source's file until Scripe has it (shared by web and worker)."""
    configured = getattr(settings, "SOURCE_UPLOAD_DIR", "") or os.path.join(
        tempfile.gettempdir(), "scripe-calendar-sources"
    )
    path = Path(configured)
    path.mkdir(parents=True, exist_ok=True)
    return path


def accepted_extensions() -> str:
    return ",".join(ACCEPTED_TYPES)


def file_type_check(name: str, size: int) -> str:
    """The content type Scripe gets for a file of this name and size, or a Refusal on the
    `file` field saying what is taken."""
    ending = Path(name or "").suffix.lower()
    content_type = ACCEPTED_TYPES.get(ending)
    if content_type is None:
        raise Refusal(
            fields={
                "file": _(
                    "Scripe takes audio or video (MP3, M4A, WAV, MP4, MOV, WebM), PDF or "
                    "Office documents, or plain text (.txt). Convert the file to one of those."
                )
            }
        )
    cap = upload_cap(content_type) or 0
    if size > cap:
        kind = content_type.split("/")[0]
        words = KIND_WORDS.get(kind, _("documents"))
        raise Refusal(
            fields={
                "file": _(
                    "This file is %(size)s MB; Scripe takes %(kind)s of at most %(cap)s MB. "
                    "Shorten or compress it, or split it in parts."
                )
                % {
                    "size": number_format(round(size / MB), force_grouping=True),
                    "kind": words,
                    "cap": cap // MB,
                }
            }
        )
    if size == 0:
        raise Refusal(fields={"file": _("This file is empty.")})
    return content_type


def _project_check(project: Project | None) -> Project:
    if project is None:
        raise Refusal(fields={"project": _("Choose a project.")})
    if not project.is_active:
        raise Refusal(fields={"project": project.inactive_reason})
    return project


def source_file_refused(*, project: Project | None, refusal: Refusal) -> Refusal:
    """An upload's refusal (no file, or one refused while it streamed) with the project's
    problem too, if it has one: the form says both at once, not one per try."""
    try:
        _project_check(project)
    except Refusal as also:
        return Refusal(fields={**refusal.fields, **also.fields}, status=refusal.status)
    return refusal


def _created(source: Source) -> Source:
    """Hands the new source to a task once it is committed."""
    transaction.on_commit(lambda: dispatch.enqueue_sources([source.pk]))
    return source


def _new(**fields) -> Source:
    now = timezone.now()
    return Source(next_poll_at=now, dispatched_at=now, updated_at=now, **fields)


def source_create_file(
    *, user, project: Project | None, name: str, size: int, temporary_path: str, slot=None
) -> Source:
    """A file source from an upload Django streamed to `temporary_path`: checked (type, size),
    moved into the source directory, and handed to a task that sends it to Scripe."""
    project = _project_check(project)
    content_type = file_type_check(name, size)
    source = _new(
        workspace_id=project.workspace_id,
        project=project,
        slot=slot,
        kind=SourceKind.FILE,
        name=Path(name).name[:255],
        content_type=content_type,
        size_bytes=size,
        created_by=user,
    )
    path = storage_dir() / source.public_id.hex
    # A rename when both are on one file system (the usual case): no copy of the bytes.
    shutil.move(temporary_path, path)
    source.local_path = str(path)
    with transaction.atomic():
        source.save()
        return _created(source)


def source_create_text(*, user, project: Project | None, text: str, name: str = "", slot=None):
    """A text source: sent to Scripe as it is (Scripe caps text sources at 1 MB)."""
    problems = {}
    text = (text or "").replace("\x00", "").strip()
    if not text:
        problems["text"] = _("Paste the text Scripe should take ideas from.")
    elif len(text.encode()) > TEXT_SOURCE_MAX_BYTES:
        problems["text"] = _("Scripe takes texts of at most 1 MB; upload it as a .txt file.")
    try:
        project = _project_check(project)
    except Refusal as refusal:
        problems.update(refusal.fields)
    if problems:
        raise Refusal(fields=problems)
    source = _new(
        workspace_id=project.workspace_id,
        project=project,
        slot=slot,
        kind=SourceKind.TEXT,
        name=(name or text.splitlines()[0])[:80],
        content_type="text/plain",
        size_bytes=len(text.encode()),
        created_by=user,
    )
    path = storage_dir() / source.public_id.hex
    path.write_text(text, encoding="utf-8")
    source.local_path = str(path)
    with transaction.atomic():
        source.save()
        return _created(source)


def source_create_url(*, user, project: Project | None, url: str, slot=None) -> Source:
    """A link: the worker reads the page as text (through the destination rule: public https
    hosts only, unless local hosts are allowed) and sends that text to Scripe."""
    problems = {}
    url = (url or "").strip()
    try:
        check_url(url)
    # scripe_integration says why in English; the sentences are said here, translated.
    except NameNotFound:
        problems["url"] = _("We could not find %(host)s; check the address.") % {
            "host": urlsplit(url).hostname
        }
    except DestinationRefused:
        problems["url"] = _(
            "Use an https address on the public internet: this link cannot be read."
        )
    except ValueError:  # not a URL at all (say an unclosed IPv6 bracket)
        problems["url"] = _("This is not a link; copy it from the browser's address bar.")
    try:
        project = _project_check(project)
    except Refusal as refusal:
        problems.update(refusal.fields)
    if problems:
        raise Refusal(fields=problems)
    source = _new(
        workspace_id=project.workspace_id,
        project=project,
        slot=slot,
        kind=SourceKind.URL,
        name=url[:255],
        url=url,
        content_type="text/plain",
        created_by=user,
    )
    with transaction.atomic():
        source.save()
        return _created(source)


# the reusable upload step ----------------------------------------------------------------------


def upload_file(
    scripe: ScripeClient,
    *,
    path: str,
    content_type: str,
    size: int,
    upload: Upload | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> Upload:
    """Uploads a local file to Scripe (`POST /v1/uploads`, then the PUT, streamed from disk)
    and returns the upload, whose `id` goes into `POST /v1/sources` or `POST /v1/knowledge`.
    Given the `upload` of an earlier try whose PUT broke off, it sends the file again to the
    same URL rather than asking for a new one. Errors are the client's ScripeErrors."""
    if upload is None:
        upload = scripe.create_upload(content_type, max_size_bytes=size)
    scripe.put_upload(upload, path, size=size, on_progress=on_progress)
    return upload


def local_copy_delete(row: Source | KnowledgeDocument) -> bool:
    """Deletes the app's copy of an uploaded file (a source's, or a knowledge document's),
    once Scripe has it, and notes when; False when there was no copy left."""
    if not row.local_path:
        return False
    with contextlib.suppress(FileNotFoundError):
        os.unlink(row.local_path)
    now = timezone.now()
    type(row).objects.filter(pk=row.pk).update(local_path="", local_deleted_at=now, updated_at=now)
    row.local_path, row.local_deleted_at = "", now
    return True


# hooks -> planned posts ------------------------------------------------------------------------


@dataclass
class HookOutcome:
    hook: dict
    slot: PlannedSlot
    planned: bool  # False: it was planned before


def steering_for(source: Source, topic: dict) -> str:
    """What the generation request adds to the hook: the source and the topic it came from
    (`Source.steering_for`, which an idea of the board planned from a hook uses too)."""
    return source.steering_for(topic)


def _chosen_hooks(source: Source, hook_ids: list[str]) -> dict[str, tuple[dict, dict]]:
    """The source's hooks by id (each with its topic), once the choice is one to act on."""
    if source.status != "ready":
        raise Refusal(
            _("The source is not transcribed yet; its hooks come once it is."), stale=True
        )
    if not hook_ids:
        raise Refusal(fields={"hooks": _("Tick at least one hook to plan a post from.")})
    by_id = {}
    for topic in source.topics:
        for hook in topic.get("hooks", []):
            by_id[hook["id"]] = (hook, topic)
    if any(h not in by_id for h in hook_ids):
        raise Refusal(fields={"hooks": _("Some of the hooks are not this source's; reload it.")})
    return by_id


def hooks_plan(*, user, source: Source, hook_ids: list[str], language: str = "en"):
    """Plans a post for each chosen hook at the project's next queue times, through the
    queue's planning services and rules. A hook planned before (by anyone, from here or from
    the ideas board) is not planned again: its post is returned with `planned=False`."""
    by_id = _chosen_hooks(source, hook_ids)
    outcomes = []
    schedule_checked = False
    for hook_id in dict.fromkeys(hook_ids):
        hook, topic = by_id[hook_id]
        earlier = HookPlan.objects.filter(source=source, hook_id=hook_id).select_related("slot")
        if (plan := earlier.first()) is not None:
            outcomes.append(HookOutcome(hook, plan.slot, planned=False))
            continue
        if not schedule_checked:
            _schedule_check(source.project)
            schedule_checked = True
        request_key = f"hook-{source.public_id.hex[:24]}-{hook_id}"[:64]
        try:
            with transaction.atomic():
                queued = planning_queue.queue_add(
                    user=user,
                    project=source.project,
                    request_key=request_key,
                    note_text=hook["content"],
                    note=None,
                    language=language,
                )
                HookPlan.objects.create(
                    source=source,
                    hook_id=hook_id,
                    slot=queued.slot,
                    steering=steering_for(source, topic),
                    created_by=user,
                )
                _board_idea_used(source, hook_id, queued.slot, user)
        except IntegrityError:
            # A twin request planned it a moment ago: the same request key gave the same post.
            plan = HookPlan.objects.select_related("slot").get(source=source, hook_id=hook_id)
            outcomes.append(HookOutcome(hook, plan.slot, planned=False))
            continue
        outcomes.append(HookOutcome(hook, queued.slot, planned=True))
    return outcomes


def _schedule_check(project: Project) -> None:
    """The queue refuses a project without a posting schedule too; here the sentence also
    names the way round it that the source's page offers (the ideas board)."""
    if project.is_active and not project.schedule_times.exists():
        raise Refusal(
            fields={
                "queue": _(
                    "%(project)s has no posting schedule yet, so its posts have no "
                    "queue times to go to. A manager sets one on the project's queue page; or "
                    "put the hooks on the ideas board and drag each onto the day you want."
                )
                % {"project": project.name}
            }
        )


def _board_idea_used(source: Source, hook_id: str, slot: PlannedSlot, user) -> None:
    """A hook on the ideas board that is planned here: its idea records where it went."""
    idea = Idea.objects.filter(
        source=source, hook_id=hook_id, state__in=list(PLANNABLE_IDEA_STATES)
    ).first()
    if idea is not None:
        PlannedSlot.objects.filter(pk=slot.pk, idea__isnull=True).update(idea=idea)
        idea.mark_used(by=user)


@dataclass
class BoardOutcome:
    added: list[Idea]
    on_board: int  # already there
    planned: int  # already a post


def hooks_to_board(*, user, source: Source, hook_ids: list[str]) -> BoardOutcome:
    """Puts each chosen hook on the ideas board as an idea of the source's project, linked
    to the source and the hook, to be dropped on a day (or planned from its page): its post
    then carries the hook and the source as steering, as one planned to the queue does.
    A hook already on the board, or already a post, is not added again."""
    by_id = _chosen_hooks(source, hook_ids)
    chosen = list(dict.fromkeys(hook_ids))
    planned = set(
        HookPlan.objects.filter(source=source, hook_id__in=chosen).values_list("hook_id", flat=True)
    )
    there = set(
        Idea.objects.filter(source=source, hook_id__in=chosen).values_list("hook_id", flat=True)
    )
    fresh = [
        Idea(
            workspace_id=source.workspace_id,
            project=source.project,
            owner=user,
            text=by_id[hook_id][0]["content"],
            source=source,
            hook_id=hook_id,
        )
        for hook_id in chosen
        if hook_id not in planned and hook_id not in there
    ]
    # Two editors at once: the unique constraint keeps one idea per source and hook.
    Idea.objects.bulk_create(fresh, ignore_conflicts=True)
    added = Idea.objects.filter(source=source, hook_id__in=[i.hook_id for i in fresh])
    return BoardOutcome(
        added=list(added.order_by("hook_id")),
        on_board=len([h for h in chosen if h in there and h not in planned]),
        planned=len([h for h in chosen if h in planned]),
    )
