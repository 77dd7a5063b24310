"""What people read: sentences end once, and the words are the product's."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template

from calendar_app.core.sentences import sentence


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("Scripe refuses it", "Scripe refuses it."),
        ("Mint one under Settings → Developer.", "Mint one under Settings → Developer."),
        ("Is it?", "Is it?"),
        ("Wait!", "Wait!"),
        ("And then…", "And then…"),
        ("(see Settings.)", "(see Settings.)"),
        ("He said “no.”", "He said “no.”"),
        ("Trailing space.  ", "Trailing space."),
        ("A list:", "A list."),
        ("", ""),
    ],
)
def test_a_sentence_ends_once(text, written):
    assert sentence(text) == written


def test_the_filter_escapes_what_it_is_given_and_keeps_what_is_safe():
    html = Template("{% load sentences %}{{ raw|sentence }} {{ safe|sentence }}").render(
        Context({"raw": "<b>Bold", "safe": Template("<i>ok</i>").render(Context())})
    )
    assert html == "&lt;b&gt;Bold. <i>ok</i>."


# "Slot" is a word of the code, not of the product: people plan posts (#24) -----------------

SLOT = re.compile(r"\bslots?\b", re.IGNORECASE)
TEMPLATES = Path(settings.BASE_DIR, "templates")
APP = Path(settings.BASE_DIR, "calendar_app")
INTEGRATION = Path(settings.BASE_DIR, "scripe_integration")


def template_text(source: str) -> list[str]:
    """What a template writes for a person to read or hear: its text, titles, labels and
    placeholders, without template code (comments, tags, variables)."""
    from tests.calendar_app.test_pages import Page

    source = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", " ", source, flags=re.S)
    # A translated sentence is text too (#30): {% translate "…" %} keeps its words (a
    # blocktranslate's are between its tags already).
    source = re.sub(r'{%\s*translate\s+"([^"]*)"[^%]*%}', r" \1 ", source)
    source = re.sub(r"{#.*?#}|{%.*?%}|{{.*?}}", " ", source, flags=re.S)
    return Page(source).words


def messages_in(path: Path) -> list[tuple[int, str]]:
    """The sentences a module may show or send a person: its string literals (an f-string's
    text between its values) with a space in them, leaving out docstrings and what it only
    logs."""
    tree = ast.parse(path.read_text())
    skipped: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):  # a docstring
            skipped.add(id(first.value))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name) and owner.id == "logger":
                skipped.update(id(n) for arg in node.args for n in ast.walk(arg))
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.JoinedStr):  # its text, a {} for each value
            skipped.update(id(n) for n in ast.walk(node) if n is not node)
            text = "".join(
                part.value if isinstance(part, ast.Constant) else "{}" for part in node.values
            )
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        else:
            continue
        if " " in text.strip():
            found.append((node.lineno, text))
    return found


def test_no_template_says_slot():
    said = [
        f"{path.relative_to(TEMPLATES)}: {text}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for text in template_text(path.read_text())
        if SLOT.search(text)
    ]
    assert not said, "\n".join(said)


def test_no_message_says_slot():
    modules = [p for root in (APP, INTEGRATION) for p in sorted(root.rglob("*.py"))]
    said = [
        f"{path.relative_to(settings.BASE_DIR)}:{line}: {text}"
        for path in modules
        if "migrations" not in path.parts
        for line, text in messages_in(path)
        if SLOT.search(text)
    ]
    assert not said, "\n".join(said)


SCRIPTS = Path(settings.BASE_DIR, "static", "js")
# A script's string literals with a space in them: what it may toast or label. Identifiers,
# selectors and form names ("slot", "slots-changed") have none.
# "slot" as a word, not as a part of a class, attribute or event name (".slot-card",
# "[data-slot]", "slots-changed").
WORD_SLOT = re.compile(r"(?<![\w.\-\[])slots?(?![\w\-=\]])", re.IGNORECASE)
JS_STRING = re.compile(r"\"((?:[^\"\\\n]|\\.)*)\"|'((?:[^'\\\n]|\\.)*)'|`([^`]*)`")


def test_no_script_says_slot():
    said = [
        f"{path.relative_to(SCRIPTS)}: {text}"
        for path in sorted(SCRIPTS.rglob("*.js"))
        for match in JS_STRING.finditer(path.read_text())
        for text in [next(group for group in match.groups() if group is not None)]
        if " " in text.strip() and WORD_SLOT.search(text)
    ]
    assert not said, "\n".join(said)
