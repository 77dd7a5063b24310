"""One direction between the two apps: calendar_app uses scripe_integration, never the reverse.

scripe_integration is a library (client, encrypted key, pacing, sandbox) that could serve
another host project; it learns which model owns a connection from a setting.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / "scripe_integration"


def library_modules() -> list[Path]:
    # Migrations are history: an old one may name calendar_app's tables; the current state
    # does not.
    return sorted(p for p in LIBRARY.rglob("*.py") if "migrations" not in p.parts)


def imported_names(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "__import__":
            names.update(a.value for a in node.args if isinstance(a, ast.Constant))
    return names


@pytest.mark.parametrize("path", library_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_scripe_library_never_imports_the_calendar(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    calendar = {n for n in imported_names(tree) if n.split(".")[0] == "calendar_app"}
    assert not calendar, f"{path.relative_to(ROOT)} imports {sorted(calendar)}"
    # Nor names it in a string ("calendar_app.PlannedSlot", "calendar_app.tasks.x").
    strings = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]
    assert not [s for s in strings if "calendar_app" in s]


def test_the_check_sees_an_import_when_there_is_one():
    tree = ast.parse("from calendar_app.models import PlannedSlot\nimport calendar_app.tasks\n")
    assert imported_names(tree) == {"calendar_app.models", "calendar_app.tasks"}


def test_the_connection_belongs_to_the_model_the_host_names(settings):
    from scripe_integration.models import ScripeConnection

    owner = ScripeConnection._meta.get_field("workspace").related_model
    assert owner._meta.label == settings.SCRIPE_CONNECTION_OWNER_MODEL
