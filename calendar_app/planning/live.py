"""The live pages' clock: a moment as whole microseconds since 1970, both ways, in Python and
in the database (a card's version is its `updated_at` so written), and the `since` token a
page polls `/slots/live/` with, made here and read back here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db.models import BigIntegerField, Func
from django.utils import timezone

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class EpochMicros(Func):
    """A moment as whole microseconds since 1970 (empty stays empty), worked out by the
    database: psycopg parses a timestamp in Python (3.5 µs each, three or more a card), an
    integer in C. Turn it back with `from_micros`. PostgreSQL, and SQLite, which stores
    "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC."""

    output_field = BigIntegerField()

    def get_db_converters(self, connection):
        # Both databases answer an int (or NULL) already. Without a converter on any column,
        # Django hands a query's rows on as the cursor gives them, rather than converting
        # every value of every row in Python.
        return []

    def as_postgresql(self, compiler, connection, **extra):
        template = "(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # '%%%%s': one % is taken by the template, and the backend reads '%s' as a parameter.
        template = (
            "(CAST(strftime('%%%%s', %(expressions)s) AS INTEGER) * 1000000"
            " + CAST(substr(%(expressions)s, 21, 6) AS INTEGER))"
        )
        return self.as_sql(compiler, connection, template=template, **extra)


def from_micros(micros: int | None) -> datetime | None:
    return None if micros is None else EPOCH + timedelta(microseconds=micros)


def to_micros(moment) -> int:
    return int(moment.timestamp() * 1_000_000)


# Live polls ------------------------------------------------------------------------------------
# A page asks for what changed after its `since`. The times compared are `updated_at`, which
# the writing process stamps before its transaction commits, so a change may become visible a
# moment after a later one. A page's `since` therefore trails the clock by LIVE_MARGIN: such
# a change is still found by the next poll, and a change seen twice is swapped once (the page
# compares versions).
LIVE_MARGIN = timedelta(seconds=3)


def live_token(now: datetime | None = None) -> int:
    """The `since` for a page rendered, or a poll answered, now."""
    return to_micros((now or timezone.now()) - LIVE_MARGIN)


def token_read(raw: str) -> datetime | None:
    """The moment a page's `since` token stands for; None for anything that is not one."""
    if not raw.isdigit() or len(raw) > 17:
        return None
    return datetime.fromtimestamp(int(raw) / 1_000_000, tz=UTC)
