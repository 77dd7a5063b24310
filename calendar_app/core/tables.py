"""Numbers as rows: what a chart shows as its accessible table and its CSV download."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Table:
    """A chart's numbers as rows, for the accessible table and the CSV download."""

    headers: list[str]
    rows: list[list]
