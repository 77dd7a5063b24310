"""Percentiles and durations computed by the database, on PostgreSQL and on SQLite alike
(PostgreSQL's `percentile_cont`; on SQLite the same interpolation, registered on the
connection), so a median over a year of rows costs one grouped query."""

from __future__ import annotations

import math

from django.db.models import (
    Aggregate,
    F,
    FloatField,
    Func,
)


def percentile(values: list[float], fraction: float) -> float | None:
    """The continuous percentile (linear interpolation between the closest ranks), as
    PostgreSQL's `percentile_cont` computes it; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class _SqlitePercentile:
    """`insights_percentile(value, fraction)` for SQLite, which has no percentile of its own."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.fraction = 0.5

    def step(self, value, fraction) -> None:
        if value is not None:
            self.values.append(float(value))
            self.fraction = float(fraction)

    def finalize(self) -> float | None:
        return percentile(self.values, self.fraction)


class Percentile(Aggregate):
    """The `fraction` percentile of an expression, computed by the database."""

    function = "percentile_cont"
    name = "Percentile"

    def __init__(self, expression, fraction: float, **extra) -> None:
        self.fraction = float(fraction)
        super().__init__(expression, output_field=FloatField(), **extra)

    def as_postgresql(self, compiler, connection, **extra):
        template = f"percentile_cont({self.fraction!r}) WITHIN GROUP (ORDER BY %(expressions)s)"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # Registering again is cheap and covers every new connection (a thread, a reconnect).
        connection.ensure_connection()
        connection.connection.create_aggregate("insights_percentile", 2, _SqlitePercentile)
        template = f"insights_percentile(%(expressions)s, {self.fraction!r})"
        return self.as_sql(compiler, connection, template=template, **extra)


class SecondsBetween(Func):
    """`end - start` in seconds, computed by the database (to the millisecond on SQLite,
    whose julianday() is a float of days). Each moment appears once in the SQL, so either
    may be a subquery with parameters."""

    output_field = FloatField()
    arity = 2

    def as_postgresql(self, compiler, connection, **extra):
        start, end = self.source_expressions
        template = "EXTRACT(EPOCH FROM (%(end)s - %(start)s))::float8"
        return self._two(compiler, connection, template, start, end)

    def as_sqlite(self, compiler, connection, **extra):
        start, end = self.source_expressions
        template = "ROUND((julianday(%(end)s) - julianday(%(start)s)) * 86400.0, 3)"
        return self._two(compiler, connection, template, start, end)

    def _two(self, compiler, connection, template, start, end):
        start_sql, start_params = compiler.compile(start)
        end_sql, end_params = compiler.compile(end)
        # The end comes first in both templates.
        return template % {"start": start_sql, "end": end_sql}, (*end_params, *start_params)


def seconds_between(start: str, end: str) -> SecondsBetween:
    return SecondsBetween(F(start), F(end))
