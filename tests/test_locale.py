"""The German catalogues are complete and current (#30).

`make test` fails while a message in the code or templates is missing from a catalogue (or one
the code no longer has is still in it), while a German msgstr is empty or fuzzy, and while a
committed .mo is not the compiled .po. "Current" means exactly what `make messages` would
write: its makemessages runs over a copy of the code, so the worktree is never touched.
Needs GNU gettext (msgmerge, msgfmt), which .ci/run installs.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = [
    Path("locale/de/LC_MESSAGES/django.po"),
    # The sentences of static/js, served by JavaScriptCatalog.
    Path("locale/de/LC_MESSAGES/djangojs.po"),
    # The sandbox's own (its consent page): scripe_integration never depends on the calendar.
    Path("scripe_integration/locale/de/LC_MESSAGES/django.po"),
]
# What makemessages reads: everything a user sees comes from these (tests/ and the rest are
# left out of the copy, as the Makefile's flags leave them out of `make messages`).
SOURCES = [
    "manage.py",
    "config",
    "calendar_app",
    "scripe_integration",
    "templates",
    "static",
    "locale",
]


def _makefile_flags() -> list[str]:
    """`make messages`'s flags, read from the Makefile so the two never differ."""
    for line in (ROOT / "Makefile").read_text().splitlines():
        if line.startswith("MESSAGES_FLAGS :="):
            return shlex.split(line.partition(":=")[2])
    raise AssertionError("The Makefile has no MESSAGES_FLAGS line")


def _catalogue(path: Path) -> polib.POFile:
    assert path.exists(), f"{path} is missing: run `make messages`"
    return polib.pofile(str(path))


def _key(entry: polib.POEntry) -> tuple[str, str, str]:
    return (entry.msgctxt or "", entry.msgid, entry.msgid_plural or "")


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    """A copy of the code with its catalogues as makemessages leaves them."""
    copy = tmp_path_factory.mktemp("messages")
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=skip)
        else:
            shutil.copy2(source, copy / name)
    for domain in ("django", "djangojs"):
        subprocess.run(
            [sys.executable, "manage.py", "makemessages", "-d", domain, *_makefile_flags()],
            cwd=copy,
            check=True,
            capture_output=True,
            timeout=120,
        )
    return copy


@pytest.mark.parametrize("catalogue", CATALOGUES, ids=str)
def test_makemessages_leaves_the_catalogue_unchanged(regenerated, catalogue):
    ours = {_key(e) for e in _catalogue(ROOT / catalogue) if not e.obsolete}
    fresh = {_key(e) for e in _catalogue(regenerated / catalogue)}
    assert sorted(fresh - ours) == [], "New messages: run `make messages` and translate them"
    assert sorted(ours - fresh) == [], "Messages the code no longer has: run `make messages`"


@pytest.mark.parametrize("catalogue", CATALOGUES, ids=str)
def test_every_message_has_a_german_translation(catalogue):
    po = _catalogue(ROOT / catalogue)
    assert [e.msgid for e in po.untranslated_entries()] == [], "Empty msgstr"
    assert [e.msgid for e in po.fuzzy_entries()] == [], "Fuzzy: check and remove the flag"
    assert [e.msgid for e in po.obsolete_entries()] == [], "Obsolete: run `make messages`"


@pytest.mark.parametrize("catalogue", CATALOGUES, ids=str)
def test_the_committed_mo_is_the_compiled_po(tmp_path, catalogue):
    compiled = tmp_path / "django.mo"
    # What compilemessages runs.
    subprocess.run(
        ["msgfmt", "--check-format", "-o", str(compiled), str(ROOT / catalogue)],
        check=True,
        capture_output=True,
    )
    committed = (ROOT / catalogue).with_suffix(".mo")
    assert committed.exists(), "Run `make messages` to compile the catalogue"
    assert committed.read_bytes() == compiled.read_bytes(), "Run `make messages` to compile"
