"""The workspace archive: which tables go into it, how a row is written as JSON, and how an
archive becomes a workspace again.

The format is a zip with `manifest.json` (format name and version, the workspace, the row
count of each table) and one `tables/<name>.json` per table: a list of rows, each the model's
concrete fields by name (`ref` is the row's id in the exporting database, foreign keys are
refs into the archive's tables, people are refs into `people`). Secrets never go in: the Scripe
key and OAuth tokens, API tokens, feed and review-link tokens, webhook secrets and the app's
copies of uploaded files are left out by design (`TABLES` lists what is in, nothing else is).

The tables are declared, not discovered: a new model joins the archive when someone decides
what of it may leave (add a `Table`), never by accident.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from typing import IO, Any

from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from calendar_app.models import (
    GenerationJob,
    HookPlan,
    Idea,
    KnowledgeDocument,
    Label,
    Membership,
    PlannedSlot,
    Project,
    QueueEntry,
    ScheduleTime,
    Series,
    SeriesOccurrence,
    SlotEvent,
    Source,
    SourceNote,
    WebhookEndpoint,
    Workspace,
)
from calendar_app.portability.people import FORMER_MEMBER_USERNAME, former_member
from scripe_integration.crypto import encrypt

FORMAT = "scripe-calendar-workspace"
FORMAT_VERSION = 1
PEOPLE = "people"
# Stored as the endpoint's disabled reason, in English; its page translates it when shown.
IMPORTED_ENDPOINT = gettext_noop(
    "Imported from an archive without its secret: rotate the secret, give it to the "
    "receiver, then turn the endpoint on."
)


@dataclass(frozen=True)
class Table:
    """One model in the archive: its file name, the path from the model to its workspace,
    fields that stay home (secrets, files on disk, a worker's lease) and, for those the model
    requires, what an imported row gets instead."""

    name: str
    model: type[models.Model]
    scope: str
    omit: frozenset[str] = frozenset()
    on_import: dict[str, Any] = field(default_factory=dict)


# Pacing state of rows a worker follows: meaningless in another database, and a lease copied
# into it would keep a worker off the row.
_LEASES = frozenset({"lease_until", "dispatched_at"})

# In the order an import creates them: a foreign key to a table further down (or to its own)
# is set once every row exists.
TABLES: list[Table] = [
    Table("workspace", Workspace, "pk", omit=frozenset({"sync_allowance", "sync_allowance_at"})),
    Table("members", Membership, "workspace"),
    Table("projects", Project, "workspace"),
    Table("schedule_times", ScheduleTime, "project__workspace"),
    Table("labels", Label, "workspace"),
    Table("notes", SourceNote, "workspace"),
    Table("posts", PlannedSlot, "workspace"),
    Table("queue", QueueEntry, "slot__workspace"),
    Table("series", Series, "workspace"),
    Table("series_occurrences", SeriesOccurrence, "series__workspace"),
    Table("trail", SlotEvent, "slot__workspace"),
    Table("generations", GenerationJob, "slot__workspace", omit=_LEASES),
    Table(
        "sources",
        Source,
        "workspace",
        # The file itself and the address Scripe gave for uploading it stay behind.
        omit=_LEASES | {"local_path", "upload_url"},
    ),
    Table("hook_plans", HookPlan, "source__workspace"),
    Table("ideas", Idea, "workspace"),
    Table("knowledge_documents", KnowledgeDocument, "workspace", omit=_LEASES | {"local_path"}),
    Table(
        "webhook_endpoints",
        WebhookEndpoint,
        "workspace",
        omit=frozenset({"secret_encrypted", "previous_secret_encrypted", "previous_secret_until"}),
        # A receiver checks signatures with a secret the archive never had: an imported
        # endpoint gets a new one and waits, off, until an admin rotates it and turns it on.
        on_import={
            "secret_encrypted": lambda: encrypt(uuid.uuid4().hex),
            "is_active": lambda: False,
            "disabled_at": timezone.now,
            "disabled_reason": lambda: IMPORTED_ENDPOINT,
        },
    ),
]


def _is_person(f: models.Field) -> bool:
    return f.is_relation and f.related_model is get_user_model()


def _fields(table: Table) -> list[models.Field]:
    return [
        f
        for f in table.model._meta.concrete_fields
        if not f.primary_key and f.name not in table.omit
    ]


def _m2m(table: Table) -> list[models.ManyToManyField]:
    return list(table.model._meta.many_to_many)


def _table_of(model: type[models.Model]) -> str | None:
    return next((t.name for t in TABLES if t.model is model), None)


class _Encoder(DjangoJSONEncoder):
    """Django's JSON, with times to the microsecond (Django's own stops at milliseconds, so
    a trail's order between two entries of one millisecond would not come back)."""

    def default(self, o):
        if isinstance(o, dt.datetime | dt.time):
            return o.isoformat()
        return super().default(o)


# Writing ------------------------------------------------------------------------------------


def workspace_rows(workspace_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows of one workspace, as JSON-ready dicts: one query a table, one per
    many-to-many field and one for the people, however large the workspace."""
    rows: dict[str, list[dict[str, Any]]] = {}
    person_ids: set[int] = set()
    for table in TABLES:
        fields = _fields(table)
        m2m = _m2m(table)
        lookup = "pk" if table.scope == "pk" else f"{table.scope}__pk"
        queryset = table.model._base_manager.filter(**{lookup: workspace_id}).order_by("pk")
        if m2m:
            queryset = queryset.prefetch_related(*(f.name for f in m2m))
        out = []
        for obj in queryset:
            row: dict[str, Any] = {"ref": obj.pk}
            for f in fields:
                value = f.value_from_object(obj)
                row[f.name] = value
                if _is_person(f) and value is not None:
                    person_ids.add(value)
            for f in m2m:
                # The prefetch cache: the ids without another query.
                row[f.name] = sorted(o.pk for o in getattr(obj, f.name).all())
            out.append(row)
        rows[table.name] = out
    people = get_user_model()._base_manager.filter(pk__in=person_ids).order_by("pk")
    rows[PEOPLE] = [
        {
            "ref": p.pk,
            "email": p.email,
            "username": p.get_username(),
            "first_name": p.first_name,
            "last_name": p.last_name,
        }
        for p in people
    ]
    return rows


def write_archive(*, workspace: Workspace, stream: IO[bytes]) -> dict[str, int]:
    """Writes the workspace's archive as a zip into `stream`; returns each table's count."""
    rows = workspace_rows(workspace.pk)
    counts = {name: len(items) for name, items in rows.items()}
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exported_at": timezone.now(),
        "workspace": {"public_id": workspace.public_id, "name": workspace.name},
        "tables": counts,
        "not_included": [
            "the Scripe key and OAuth tokens",
            "API tokens, calendar feed and review link tokens",
            "webhook secrets and delivery history",
            "uploaded files (sources and knowledge documents keep their metadata)",
            "notifications and personal email settings",
        ],
    }
    with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, cls=_Encoder, indent=2))
        for name, items in rows.items():
            archive.writestr(f"tables/{name}.json", json.dumps(items, cls=_Encoder))
    return counts


# Reading ------------------------------------------------------------------------------------


class ArchiveError(Exception):
    """The file is not a workspace archive this version can read (the message says why)."""


def read_archive(stream: IO[bytes]) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    try:
        with zipfile.ZipFile(stream) as archive:
            manifest = json.loads(archive.read("manifest.json"))
            if manifest.get("format") != FORMAT:
                raise ArchiveError("This is not a workspace archive.")
            if manifest.get("format_version") != FORMAT_VERSION:
                raise ArchiveError(
                    f"Archive format version {manifest.get('format_version')} is not "
                    f"supported (this app reads version {FORMAT_VERSION})."
                )
            rows = {
                name: json.loads(archive.read(f"tables/{name}.json"))
                for name in [PEOPLE, *(t.name for t in TABLES)]
                if f"tables/{name}.json" in archive.namelist()
            }
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as error:
        raise ArchiveError(f"The archive cannot be read: {error}") from error
    return manifest, rows


@dataclass
class ImportResult:
    workspace: Workspace
    counts: dict[str, int]
    created_people: list[str]


def _people(rows: list[dict[str, Any]]) -> tuple[dict[int, int], list[str]]:
    """Archive person refs → user ids. A person is found by email (case-insensitive); one the
    database does not know is created inactive, with no usable password, so their name stays
    on what they did and an operator decides whether they may log in."""
    User = get_user_model()
    emails = {r["email"].lower() for r in rows if r["email"]}
    known = {u.email.lower(): u.pk for u in User._base_manager.filter(email__in=emails)}
    # email__in is case-sensitive on PostgreSQL: look again for the ones not found.
    for email in emails - known.keys():
        found = User._base_manager.filter(email__iexact=email).first()
        if found:
            known[email] = found.pk
    mapping, created = {}, []
    for r in rows:
        email = (r["email"] or "").lower()
        if not email and r["username"] == FORMER_MEMBER_USERNAME:
            mapping[r["ref"]] = former_member().pk
            continue
        if email and email in known:
            mapping[r["ref"]] = known[email]
            continue
        username = r["username"]
        if User._base_manager.filter(username=username).exists():
            username = f"{username}-{uuid.uuid4().hex[:6]}"
        user = User(
            username=username,
            email=r["email"],
            first_name=r["first_name"],
            last_name=r["last_name"],
            is_active=False,
        )
        user.set_unusable_password()
        user.save()
        mapping[r["ref"]] = user.pk
        if email:
            known[email] = user.pk
        created.append(r["email"] or username)
    return mapping, created


def _fresh(f: models.Field) -> Any:
    return uuid.uuid4() if isinstance(f, models.UUIDField) else uuid.uuid4().hex


@transaction.atomic
def import_archive(stream: IO[bytes]) -> ImportResult:
    """Recreates the archive's workspace with new ids: public ids and other unique values are
    kept where the database has them free (an export imported back after the workspace was
    deleted keeps every address), and made anew where not."""
    _manifest, rows = read_archive(stream)
    people, created_people = _people(rows.get(PEOPLE, []))
    refs: dict[str, dict[int, int]] = defaultdict(dict)
    # (model, pk, field attname, archive table, archive ref) set once every row exists.
    deferred: list[tuple[type[models.Model], int, str, str, int]] = []
    counts = {}
    for position, table in enumerate(TABLES):
        loaded = {t.name for t in TABLES[:position]}
        items = rows.get(table.name, [])
        fields = _fields(table)
        taken = _taken_unique_values(table, fields, items)
        objs, later = [], []
        for item in items:
            obj = table.model()
            waiting = []
            for f in fields:
                value = item.get(f.name)
                if f.is_relation:
                    if value is None:
                        setattr(obj, f.attname, None)
                    elif _is_person(f):
                        setattr(obj, f.attname, people[value])
                    else:
                        target = _table_of(f.related_model)
                        if target in loaded:
                            setattr(obj, f.attname, refs[target][value])
                        else:
                            setattr(obj, f.attname, None)
                            waiting.append((f.attname, target, value))
                    continue
                value = f.to_python(value)
                if f.unique and value in taken.get(f.name, ()):
                    value = _fresh(f)
                setattr(obj, f.attname, value)
            for name, make in table.on_import.items():
                setattr(obj, name, make())
            objs.append(obj)
            later.append(waiting)
        created = table.model._base_manager.bulk_create(objs)
        for item, obj, waiting in zip(items, created, later, strict=True):
            refs[table.name][item["ref"]] = obj.pk
            deferred.extend((table.model, obj.pk, *w) for w in waiting)
        # bulk_create stamps auto_now(_add) fields with the present: put the archive's back.
        stamped = [
            f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        ]
        if stamped and created:
            for item, obj in zip(items, created, strict=True):
                for f in stamped:
                    setattr(obj, f.attname, f.to_python(item.get(f.name)))
            table.model._base_manager.bulk_update(created, [f.name for f in stamped])
        counts[table.name] = len(created)
    _set_deferred(deferred, refs)
    _link_many_to_many(rows, refs)
    workspace_id = refs["workspace"][rows["workspace"][0]["ref"]]
    return ImportResult(Workspace.objects.get(pk=workspace_id), counts, created_people)


def _taken_unique_values(table: Table, fields, items) -> dict[str, set]:
    taken = {}
    for f in fields:
        if f.unique and not f.is_relation:
            values = [f.to_python(i.get(f.name)) for i in items if i.get(f.name) not in (None, "")]
            taken[f.name] = set(
                table.model._base_manager.filter(**{f"{f.name}__in": values}).values_list(
                    f.name, flat=True
                )
            )
    return taken


def _set_deferred(deferred, refs) -> None:
    by_model: dict[tuple[type[models.Model], str], list[tuple[int, int]]] = defaultdict(list)
    for model, pk, attname, target, ref in deferred:
        by_model[(model, attname)].append((pk, refs[target][ref]))
    for (model, attname), pairs in by_model.items():
        objs = []
        for pk, value in pairs:
            obj = model(pk=pk)
            setattr(obj, attname, value)
            objs.append(obj)
        model._base_manager.bulk_update(objs, [attname])


def _link_many_to_many(rows, refs) -> None:
    for table in TABLES:
        for f in _m2m(table):
            through = f.remote_field.through
            target = _table_of(f.related_model)
            source_column = f.m2m_field_name() + "_id"
            target_column = f.m2m_reverse_field_name() + "_id"
            links = [
                through(
                    **{
                        source_column: refs[table.name][item["ref"]],
                        target_column: refs[target][other],
                    }
                )
                for item in rows.get(table.name, [])
                for other in item.get(f.name, [])
            ]
            through.objects.bulk_create(links)


def archive_bytes(workspace: Workspace) -> bytes:
    """The archive in memory (tests, the round trip)."""
    buffer = io.BytesIO()
    write_archive(workspace=workspace, stream=buffer)
    return buffer.getvalue()
