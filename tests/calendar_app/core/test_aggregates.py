"""Percentiles as the database computes them."""

from __future__ import annotations

import pytest

from calendar_app.core.aggregates import percentile
from tests.calendar_app.history import (
    NOW,
)


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


def test_percentiles_interpolate_as_postgresql_does():
    assert percentile([], 0.5) is None
    assert percentile([7], 0.9) == 7
    assert percentile([1, 2, 6], 0.5) == 2
    assert percentile([6, 1, 2], 0.9) == pytest.approx(5.2)
