"""scripe_integration is a library that could serve another host project: it learns which
model owns a connection from a setting. Its imports are checked by import-linter (the
contracts in pyproject.toml, `lint-imports` in make test); these check what an import
check cannot see."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "scripe_integration"


def library_modules() -> list[Path]:
    # Migrations are history: an old one may name calendar_app's tables; the current state
    # does not.
    return sorted(p for p in LIBRARY.rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("path", library_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_scripe_library_never_names_the_calendar(path):
    # Not in a string either ("calendar_app.PlannedSlot", "calendar_app.tasks.x"), where an
    # import check does not look.
    tree = ast.parse(path.read_text(), filename=str(path))
    strings = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]
    assert not [s for s in strings if "calendar_app" in s]


def test_the_connection_belongs_to_the_model_the_host_names(settings):
    from scripe_integration.models import ScripeConnection

    owner = ScripeConnection._meta.get_field("workspace").related_model
    assert owner._meta.label == settings.SCRIPE_CONNECTION_OWNER_MODEL
