"""CSV import: a spreadsheet of planned posts, previewed row by row, then planned at once.

Every row goes through `services.slot_validate` (the form's rules) and is planned by
`services.slot_create` with a request key, so importing the same file again plans nothing
new. The preview and the confirmation both parse the stored upload (`CsvImport`) from the
start; nothing the browser sends back is trusted except which row numbers to import.

What is read (the template, `TEMPLATE_ROWS`, shows it):

- UTF-8 with or without a byte-order mark; anything else is refused with how to save as UTF-8.
- The separator is whichever of `,` `;` or a tab the header line uses most.
- Header names in any case, with spaces, `_` or `-` alike (`Note text`, `note_text`).
- Dates ISO (2026-12-07, or 2026/12/07) or day first (7.12.2026, 07/12/2026, 7-12-2026):
  never month first, whatever the spreadsheet's locale. Four-digit years only.
- Times as 24-hour HH:MM (09:00, 9:30, or 09:30:00 as spreadsheets write it).
- The time is local to the importer's zone, unless a `time zone` column names another.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import uuid
import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from calendar_app.core.refusals import Refusal
from calendar_app.models import (
    IMPORT_KEEP,
    CsvImport,
    Label,
    PlannedSlot,
    Project,
    Workspace,
)
from calendar_app.planning import queue, rules, services

MAX_BYTES = 2_000_000
MAX_ROWS = 2_000
# Prefixes our export puts before a cell that a spreadsheet would run as a formula; the
# importer drops that apostrophe again, so an export reads back as it was.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# English and German headers alike (#30), whatever the importer's own language: a German
# export (csv_export.HEADER in German) reads back, and so does a colleague's English file.
COLUMNS = {
    "date": ("date", "day", "datum", "tag"),
    "time": ("time", "clock", "uhrzeit", "zeit"),
    "project": ("project", "projekt"),
    # Our export has both; the id wins, since two projects may share a name.
    "project_id": (
        "project id",
        "project scripe id",
        "scripe id",
        "projekt id",
        "projekt scripe id",
    ),
    "note": ("note", "note text", "source note", "text", "idea", "notiz", "quellnotiz", "idee"),
    "language": ("language", "lang", "sprache"),
    "labels": ("labels", "label", "tags"),
    "queue": ("queue", "warteschlange"),
    "key": ("key", "import key", "id", "schlüssel", "import schlüssel"),
    "time_zone": ("time zone", "timezone", "zone", "zeitzone"),
}
REQUIRED = ("date", "note")
ALIASES = {alias: name for name, aliases in COLUMNS.items() for alias in aliases}
# A post language by its English or German name (the list's labels are translated lazily,
# so they cannot be read while the module loads).
LANGUAGE_NAMES = {
    "english": "en",
    "englisch": "en",
    "german": "de",
    "deutsch": "de",
    "french": "fr",
    "französisch": "fr",
    "spanish": "es",
    "spanisch": "es",
    "italian": "it",
    "italienisch": "it",
    "dutch": "nl",
    "niederländisch": "nl",
    "portuguese": "pt",
    "portugiesisch": "pt",
}
FALSE_WORDS = {"", "no", "false", "0", "n", "nein", "non"}

DATE_POLICY = gettext_lazy("dates day first (31.12.2026 or 31/12/2026) or ISO (2026-12-31)")
ISO_DATE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})")
DAY_FIRST = re.compile(r"(\d{1,2})[./-](\d{1,2})[./-](\d{4})")
CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")

TEMPLATE_ROWS = [
    ["date", "time", "project", "note", "language", "labels", "queue", "key"],
    [
        "2027-01-12",
        "09:00",
        "Lena Fischer",
        "Three lessons from our first year of remote onboarding.\n"
        "Keep it personal; end with a question.",
        "en",
        "",
        "",
        "",
    ],
    ["14.01.2027", "13:30", "proj_01JSANDBOXPROJ000000000001", "Warum wir …", "de", "", "", ""],
]


class FileProblem(Refusal):
    """The file as a whole cannot be read (encoding, size, header): no row is shown."""

    def __init__(self, message: str) -> None:
        super().__init__(fields={"file": message})


@dataclass
class Row:
    number: int  # the data row, counting from 1
    line: int  # the line of the file it starts on
    cells: dict[str, str]
    project: Project | None = None
    day: date | None = None
    clock: time | None = None
    zone: zoneinfo.ZoneInfo | None = None
    note_text: str = ""
    language: str = "en"
    key: str = ""
    request_key: str = ""
    when: datetime | None = None
    # Planned at the project's next free schedule time rather than its own (#15's queue).
    queued: bool = False
    labels: list = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def note_first_line(self) -> str:
        first = next((line.strip() for line in self.note_text.splitlines() if line.strip()), "")
        return first if len(first) <= 80 else first[:77].rstrip() + "…"

    def plan(self) -> dict:
        """The row as `services.slot_create` takes it."""
        return {
            "project": self.project,
            "note_text": self.note_text,
            "note": None,
            "language": self.language,
            "day": self.day,
            "clock": self.clock,
            "zone": self.zone,
            "request_key": self.request_key,
            "labels": self.labels,
        }


@dataclass
class Preview:
    rows: list[Row]
    ignored_columns: list[str]

    @property
    def ready(self) -> list[Row]:
        return [row for row in self.rows if row.ok]

    @property
    def refused(self) -> list[Row]:
        return [row for row in self.rows if not row.ok]


# Reading the file ------------------------------------------------------------------------------


def decode(data: bytes) -> str:
    """The file's text: UTF-8 with or without a byte-order mark, within the size limit."""
    if len(data) > MAX_BYTES:
        raise FileProblem(
            _(
                "The file is %(size)s bytes; the limit is %(max_bytes)s bytes "
                "(and %(max_rows)s rows). Split it into smaller files."
            )
            % {"size": _n(len(data)), "max_bytes": _n(MAX_BYTES), "max_rows": _n(MAX_ROWS)}
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileProblem(
            _(
                "The file is UTF-16 text (Excel's “Unicode text”). Save it as “CSV UTF-8 "
                "(comma delimited)” and upload that."
            )
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FileProblem(
            _(
                "The file is not UTF-8 text (byte %(byte)s cannot be read). In Excel "
                "save it as “CSV UTF-8 (comma delimited)”; LibreOffice and Google Sheets write "
                "UTF-8 when you pick it as the character set."
            )
            % {"byte": _n(error.start + 1)}
        ) from None
    return text


def _separator(text: str) -> str:
    header = text.split("\n", 1)[0]
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    return max(counts, key=lambda sep: (counts[sep], sep == ","))


def _column_name(header: str) -> str:
    return re.sub(r"[\s_\-]+", " ", header.strip().lower()).strip()


def _read(text: str) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """(line, cells by column) for each non-blank row, and the columns ignored."""
    problem = rules.Problems()
    problem.check(rules.text, text, field="file", label=_("The file"), limit=MAX_BYTES)
    if problem.fields:
        raise FileProblem(problem.fields["file"])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_separator(text))
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise FileProblem(
                _("The file is empty. Its first line names the columns: %(columns)s.")
                % {"columns": ", ".join(TEMPLATE_ROWS[0])}
            )
        names = [ALIASES.get(_column_name(cell), "") for cell in header]
        ignored = [cell.strip() for cell, name in zip(header, names, strict=True) if not name]
        seen = [name for name in names if name]
        doubled = sorted({name for name in seen if seen.count(name) > 1})
        if doubled:
            raise FileProblem(
                _("The header names the column %(column)s twice.") % {"column": repr(doubled[0])}
            )
        # A file that queues its posts (#15) needs no dates.
        missing = [n for n in REQUIRED if n not in seen and not (n == "date" and "queue" in seen)]
        if "project" not in seen and "project_id" not in seen:
            missing.insert(1, "project")
        if missing:
            raise FileProblem(
                _(
                    "The first line must name the columns; missing: %(missing)s. "
                    "Found: %(found)s. The template shows every column."
                )
                % {
                    "missing": ", ".join(missing),
                    "found": ", ".join(h.strip() for h in header),
                }
            )
        rows = []
        line = reader.line_num + 1
        for record in reader:
            if any(cell.strip() for cell in record):
                if len(rows) == MAX_ROWS:
                    raise FileProblem(
                        _(
                            "The file has more than %(max_rows)s rows; split it into files "
                            "of at most %(max_rows)s rows."
                        )
                        % {"max_rows": _n(MAX_ROWS)}
                    )
                cells = {name: value for name, value in zip(names, record, strict=False) if name}
                rows.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as error:
        raise FileProblem(
            _("Line %(line)s cannot be read as CSV (%(error)s). Check its quotes.")
            % {"line": _n(reader.line_num), "error": error}
        ) from None
    return rows, [name for name in ignored if name]


# One row's cells ---------------------------------------------------------------------------------


def parse_date(value: str) -> date:
    """A date by the documented policy; a ValueError in words otherwise."""
    value = value.strip()
    if match := ISO_DATE.fullmatch(value):
        year, month, day = (int(part) for part in match.groups())
    elif match := DAY_FIRST.fullmatch(value):
        day, month, year = (int(part) for part in match.groups())
    else:
        raise ValueError(
            _("“%(value)s” is not a date we read: write %(policy)s.")
            % {"value": value, "policy": DATE_POLICY}
        )
    try:
        return date(year, month, day)
    except ValueError:
        hint = ""
        if month > 12 and day <= 12 and not ISO_DATE.fullmatch(value):
            hint = " " + _("It looks month first; dates here are read day first.")
        raise ValueError(
            _("“%(value)s” is not a date in the calendar: write %(policy)s.")
            % {"value": value, "policy": DATE_POLICY}
            + hint
        ) from None


def parse_clock(value: str) -> time:
    value = value.strip()
    match = CLOCK.fullmatch(value)
    if match:
        hour, minute, second = (int(part or 0) for part in match.groups())
        if hour < 24 and minute < 60 and second < 60:
            return time(hour, minute, second)
    raise ValueError(
        _("“%(value)s” is not a time we read: write it as 24-hour HH:MM, like 09:30.")
        % {"value": value}
    )


def _cell(cells: dict[str, str], name: str) -> str:
    value = cells.get(name, "")
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_STARTS:
        value = value[1:]
    return value


def _project_finder(projects: list[Project]):
    by_id = {p.scripe_id: p for p in projects}
    by_name: dict[str, list[Project]] = {}
    for project in projects:
        by_name.setdefault(" ".join(project.name.lower().split()), []).append(project)

    def find(value: str) -> tuple[Project | None, str]:
        value = value.strip()
        if not value:
            return None, _("Name the project (its name or Scripe id).")
        if value in by_id:
            return by_id[value], ""
        named = by_name.get(" ".join(value.lower().split()), [])
        if len(named) == 1:
            return named[0], ""
        if named:
            ids = ", ".join(p.scripe_id for p in named)
            return None, _(
                "Several projects are called “%(name)s”; use its Scripe id (%(ids)s)."
            ) % {
                "name": value,
                "ids": ids,
            }
        known = ", ".join(p.name for p in projects[:5]) or _("none yet")
        return None, _(
            "Unknown project “%(name)s”: use a project's name or Scripe id (%(known)s)."
        ) % {"name": value[:80], "known": known}

    return find


def _request_key(workspace: Workspace, row: Row) -> str:
    """The row's stable key: from its `key` cell when given, else from what it plans, so the
    same row imported again (or twice in one file) plans one slot."""
    if row.key:
        basis = ["key", row.key]
    elif row.queued:
        # A queued row's time depends on the queue when it is imported: it is the same row
        # whatever time it gets.
        note = "\n".join(line.rstrip() for line in row.note_text.strip().splitlines())
        basis = ["queue", str(row.project.pk if row.project else ""), note, row.language]
    else:
        note = "\n".join(line.rstrip() for line in row.note_text.strip().splitlines())
        cells = row.cells
        moment = row.when.isoformat() if row.when else f"{cells.get('date')} {cells.get('time')}"
        basis = ["row", moment, str(row.project.pk if row.project else ""), note, row.language]
    digest = hashlib.sha256("\x00".join([str(workspace.pk), *basis]).encode()).hexdigest()
    return "csv:" + digest[:60]


def _name_key(text: str) -> str:
    """A name as it is looked up: any case, spaces evened out."""
    return " ".join(text.lower().split())


def _label_finder(labels: list[Label]):
    by_name = {_name_key(label.name): label for label in labels}

    def find(value: str) -> tuple[list[Label], str]:
        """The labels a cell names, separated by `,` `;` or `|` (an export writes ", "). A
        label whose own name holds a separator ("Q1, 2027") is still found: at each place
        the longest run of parts that names a label is taken."""
        parts = re.split(r"([,;|])", value)  # names, with the separators between them kept
        count = len(parts) // 2 + 1
        found, unknown = [], []
        start = 0
        while start < count:
            for end in range(count, start, -1):
                label = by_name.get(_name_key("".join(parts[2 * start : 2 * end - 1])))
                if label is not None:
                    found.append(label)
                    start = end
                    break
            else:
                if name := parts[2 * start].strip():
                    unknown.append(name)
                start += 1
        if unknown:
            known = ", ".join(label.name for label in labels[:8]) or _("none yet")
            return found, _("Unknown label “%(name)s” (this workspace has: %(known)s).") % {
                "name": unknown[0][:60],
                "known": known,
            }
        return found, ""

    return find


def _queue_finder():
    """The first free schedule time of each project (#15), read once a project per preview:
    the time the first queued row would get."""
    first: dict[int, object] = {}

    def find(project: Project):
        if project.pk not in first:
            first[project.pk] = queue.first_free(project)
        return first[project.pk]

    return find


def _check_row(row: Row, *, find_project, find_labels, first_free, zone: zoneinfo.ZoneInfo) -> None:
    cells = row.cells
    parsed: dict[str, str] = {}
    project_name = _cell(cells, "project_id").strip() or _cell(cells, "project")
    row.project, problem = find_project(project_name)
    if problem:
        parsed["project"] = problem
    row.note_text = _cell(cells, "note")
    row.key = _cell(cells, "key").strip()[:200]
    language = _cell(cells, "language").strip()
    row.language = LANGUAGE_NAMES.get(language.lower(), language.lower()) if language else "en"

    row.zone = zone
    zone_name = _cell(cells, "time_zone").strip()
    if zone_name:
        try:
            row.zone = zoneinfo.ZoneInfo(zone_name)
        except (ValueError, zoneinfo.ZoneInfoNotFoundError):
            parsed["time"] = _("Unknown time zone “%(zone)s”: use a name like Europe/Berlin.") % {
                "zone": zone_name[:60]
            }

    day_text, clock_text = _cell(cells, "date").strip(), _cell(cells, "time").strip()
    if " " in day_text and not clock_text:
        # A spreadsheet that wrote one date-and-time cell.
        day_text, clock_text = day_text.split(" ", 1)
    if not day_text:
        parsed["date"] = _("Give a date: %(policy)s.") % {"policy": DATE_POLICY}
    else:
        try:
            row.day = parse_date(day_text)
        except ValueError as error:
            parsed["date"] = str(error)
    queued = _cell(cells, "queue").strip().lower() not in FALSE_WORDS
    if clock_text:
        try:
            row.clock = parse_clock(clock_text)
        except ValueError as error:
            parsed.setdefault("time", str(error))
        if queued:
            row.warnings.append(_("The row has a time, so it is planned then, not queued."))
    elif queued and row.project is not None:
        target = first_free(row.project)
        if target is None:
            parsed.setdefault(
                "time",
                _(
                    "%(project)s has no posting schedule (or its queue is full): give the "
                    "row a time, or set a schedule on its queue page."
                )
                % {"project": row.project.name},
            )
        else:
            # Shown and checked at the queue's first free time; each queued row takes the
            # next free one when imported.
            row.queued = True
            row.day, row.clock = target.local.date(), target.local.time()
            row.zone = row.project.workspace.zone
            parsed.pop("date", None)
    elif not queued:
        parsed.setdefault("time", _("Give a time as 24-hour HH:MM, like 09:30."))
    labels_text = _cell(cells, "labels").strip()
    if labels_text:
        row.labels, problem = find_labels(labels_text)
        if problem:
            parsed["labels"] = problem

    # The form's rules, for everything that could be read.
    try:
        plan = services.slot_validate(
            project=row.project,
            note_text=row.note_text,
            note=None,
            language=row.language,
            day=row.day,
            clock=row.clock,
            zone=row.zone,
            labels=row.labels,
        )
        row.when = plan.scheduled_for
    except Refusal as refusal:
        for name, message in refusal.fields.items():
            parsed.setdefault(name, message)
    order = ("date", "time", "project", "note_text", "language")
    row.errors.extend(parsed[name] for name in order if name in parsed)
    row.errors.extend(message for name, message in parsed.items() if name not in order)


# The preview and the import ----------------------------------------------------------------------


def import_preview(*, upload: CsvImport, projects: list[Project], zone) -> Preview:
    """Every row of the stored upload as it would be planned, with its problems in words.
    `projects` are the workspace's projects the importer may plan for. Two queries at most,
    whatever the number of rows: the slots already planned by these rows' keys."""
    lines, ignored = _read(upload.text)
    workspace = upload.workspace
    find = _project_finder([p for p in projects if p.workspace_id == workspace.pk])
    find_labels = _label_finder(list(Label.objects.filter(workspace=workspace)))
    first_free = _queue_finder()
    rows = []
    first_by_key: dict[str, int] = {}
    for number, (line, cells) in enumerate(lines, start=1):
        row = Row(number=number, line=line, cells=cells)
        _check_row(
            row, find_project=find, find_labels=find_labels, first_free=first_free, zone=zone
        )
        row.request_key = _request_key(workspace, row)
        earlier = first_by_key.setdefault(row.request_key, number)
        if earlier != number:
            if row.key:
                said = _("This row is the same key as row %(earlier)s in this file.")
            else:
                said = _("This row is a duplicate of row %(earlier)s in this file.")
            row.errors.append(said % {"earlier": earlier})
        rows.append(row)
    _mark_imported_earlier(workspace, rows)
    return Preview(rows, ignored)


def _mark_imported_earlier(workspace: Workspace, rows: list[Row]) -> None:
    """Rows whose key planned a slot before (or whose key is a slot's id, as in an export of
    this calendar), in one query."""
    if not rows:
        return
    keys = {row.request_key for row in rows}
    ids = {key for row in rows if (key := _as_uuid(row.key))}
    earlier = PlannedSlot.objects.filter(workspace=workspace).filter(
        Q(request_key__in=keys) | Q(public_id__in=ids)
    )
    found = {}
    for request_key, public_id, deleted_at in earlier.values_list(
        "request_key", "public_id", "deleted_at"
    ):
        found[request_key] = found[str(public_id)] = deleted_at is not None
    for row in rows:
        hit = row.request_key if row.request_key in found else _as_uuid(row.key)
        if hit not in found:
            continue
        if found[hit]:
            row.errors.append(
                _(
                    "Already imported earlier, and that post was deleted since. Give the row "
                    "a new key to plan it again."
                )
            )
        else:
            row.errors.append(_("Already imported earlier: that post is in the calendar."))


def _as_uuid(value: str) -> str | None:
    try:
        return str(uuid.UUID(value)) if value else None
    except ValueError:
        return None


def import_upload(*, workspace: Workspace, user, data: bytes, filename: str = "") -> CsvImport:
    """Keeps an uploaded or pasted file for its preview, once it reads as CSV with the
    columns we need (else a FileProblem saying what is wrong). Expired uploads go."""
    text = decode(data)
    _read(text)
    CsvImport.objects.filter(created_at__lt=timezone.now() - IMPORT_KEEP).delete()
    return CsvImport.objects.create(
        workspace=workspace, created_by=user, filename=filename[:200], text=text
    )


def import_for(*, workspace: Workspace, user, public_id) -> CsvImport | None:
    """The user's own stored upload for this workspace, unless it expired."""
    return CsvImport.objects.filter(
        public_id=public_id,
        workspace=workspace,
        created_by=user,
        created_at__gte=timezone.now() - IMPORT_KEEP,
    ).first()


def import_confirm(
    *, upload: CsvImport, user, preview: Preview, numbers: list[int]
) -> list[PlannedSlot]:
    """Plans the confirmed rows, all or none. `preview` is `import_preview` of the stored
    upload made in this request (the rules as they stand now, never what the browser sent
    back). If any confirmed row is refused (its time passed, another import planned it
    meanwhile), a Refusal names it and nothing is planned."""
    if not numbers:
        raise Refusal(_("Tick the rows to import."), status=422)
    by_number = {row.number: row for row in preview.rows}
    unknown = sorted(set(numbers) - set(by_number))
    if unknown:
        raise Refusal(
            _("Row %(row)s is not in this file; nothing was imported.") % {"row": unknown[0]},
            status=422,
        )
    chosen = [by_number[n] for n in sorted(set(numbers))]
    refused = [row for row in chosen if not row.ok]
    if refused:
        row = refused[0]
        raise Refusal(_refused(row, row.errors[0]), status=409)
    started = timezone.now()
    slots = []
    with transaction.atomic():
        for row in chosen:
            try:
                if row.queued:
                    plan = row.plan()
                    for name in ("project", "day", "clock", "zone", "request_key"):
                        plan.pop(name)
                    slot = queue.queue_add(
                        user=user, project=row.project, request_key=row.request_key, **plan
                    ).slot
                else:
                    slot = services.slot_create(user=user, **row.plan())
            except Refusal as refusal:
                raise Refusal(_refused(row, refusal.message), status=409) from None
            if slot.created_at < started:
                # Another import planned it between our check and now.
                raise Refusal(
                    _(
                        "Nothing was imported: row %(row)s (line %(line)s) was imported "
                        "meanwhile (from another tab, or by someone else)."
                    )
                    % {"row": row.number, "line": row.line},
                    status=409,
                )
            slots.append(slot)
        upload.delete()
    return slots


def _refused(row: Row, reason: str) -> str:
    return _("Nothing was imported: row %(row)s (line %(line)s) is refused: %(reason)s") % {
        "row": row.number,
        "line": row.line,
        "reason": reason,
    }


def _n(number: int) -> str:
    """A count with the reader's thousands separator ("1,234"; "1.234" in German)."""
    return number_format(number, force_grouping=True)


def template_csv() -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(TEMPLATE_ROWS)
    return out.getvalue()
