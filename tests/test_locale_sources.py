"""Every sentence a person is told in a request goes through gettext (#30).

test_locale.py checks the catalogues hold what makemessages finds; it cannot see a sentence
that was never marked. This walks the code and fails on an English literal handed straight to
a refusal, a form problem, a flash message or a toast, naming file and line.

The REST API, the assistants' endpoint, the admin, management commands and migrations speak
English on purpose, so they are left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "calendar_app"
SKIPPED_DIRS = {"api", "assistants", "management", "migrations"}
MESSAGE_LEVELS = {"debug", "info", "success", "warning", "error", "add_message"}
# Known and waiting for their file's owner (path, the sentence's start). Each must still be
# found, so the list shrinks as they are marked rather than hiding a new one.
KNOWN: set[tuple[str, str]] = set()


def _sources() -> list[Path]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).parts
        if parts[0] in SKIPPED_DIRS or path.name == "admin.py":
            continue
        found.append(path)
    return found


def _is_bare(node: ast.AST | None) -> bool:
    """A literal sentence, or an f-string: neither can be translated. An empty string says
    nothing, so it is fine."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.strip() != ""
    if isinstance(node, ast.JoinedStr):
        return True
    # "…" if x else "…": either branch may be the sentence shown.
    if isinstance(node, ast.IfExp):
        return _is_bare(node.body) or _is_bare(node.orelse)
    # "Part one. " + "part two" or "text %s" % value: still no gettext in sight.
    if isinstance(node, ast.BinOp):
        return _is_bare(node.left)
    # problems or "Pick an action.": the fallback is said when the first is empty.
    if isinstance(node, ast.BoolOp):
        return any(_is_bare(value) for value in node.values)
    return False


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _collects_problems(name: str) -> bool:
    """`problems`, `errors`, `self.problems`: what services gather field messages in."""
    return "problem" in name.lower() or name.lower().endswith("errors")


def _owner(node: ast.AST) -> str:
    """`messages` in `messages.error`, `problems` in `self.problems.add`."""
    if isinstance(node, ast.Attribute):
        return _name(node.value)
    return ""


def _start(node: ast.AST) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return next((_start(child) for child in ast.iter_child_nodes(node)), "")


def _problems(tree: ast.AST) -> list[tuple[int, str, str]]:
    found: list[tuple[int, str, str]] = []

    def flag(node: ast.AST, what: str) -> None:
        if _is_bare(node):
            found.append((node.lineno, what, _start(node)))

    # A Refusal subclass passes its sentence on through super().__init__(...).
    refusal_classes = {
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef) and any(_name(b).endswith("Refusal") for b in node.bases)
    }
    for cls in refusal_classes:
        for node in ast.walk(cls):
            if (
                isinstance(node, ast.Call)
                and _name(node.func) == "__init__"
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Call)
                and _name(node.func.value.func) == "super"
                and node.args
            ):
                flag(node.args[0], f"{cls.name}'s super().__init__(...)'s message")

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            callee = _name(node.func)
            # rules.text(..., required="…") and reject_reason(...): said when it is empty.
            for keyword in node.keywords:
                if keyword.arg == "required":
                    flag(keyword.value, f"{callee}(required=...)")
            if callee == "Refusal" or callee.endswith("Refusal"):
                if node.args:
                    flag(node.args[0], f"{callee}(...)'s message")
                for keyword in node.keywords:
                    if keyword.arg == "message":
                        flag(keyword.value, f"{callee}(message=...)")
                    if keyword.arg == "fields" and isinstance(keyword.value, ast.Dict):
                        for value in keyword.value.values:
                            flag(value, f"{callee}(fields={{...}})'s message")
            elif callee == "add" and _collects_problems(_owner(node.func)):
                if len(node.args) >= 2:
                    flag(node.args[1], "problems.add(...)'s message")
            elif callee == "done" and len(node.args) >= 2:
                # web.answers.done(request, message, ...): the toast, or the flash message.
                flag(node.args[1], "done(...)'s message")
            elif _owner(node.func) == "messages" and callee in MESSAGE_LEVELS:
                # messages.add_message(request, level, message); the others (request, message).
                index = 2 if callee == "add_message" else 1
                if len(node.args) > index:
                    flag(node.args[index], f"messages.{callee}(...)'s message")
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Subscript) and _collects_problems(_name(target.value)):
                    flag(node.value, "problems[...] = ...")
    return sorted(found)


def test_every_sentence_said_in_a_request_is_marked_for_translation():
    found, known = [], set()
    for path in _sources():
        name = str(path.relative_to(ROOT))
        tree = ast.parse(path.read_text(), filename=str(path))
        for line, what, text in _problems(tree):
            waiting = {(n, start) for n, start in KNOWN if n == name and text.startswith(start)}
            if waiting:
                known |= waiting
            else:
                found.append(f"{name}:{line}: {what} is not translated: {text[:60]!r}")
    assert not found, "\n".join(found)
    assert known == KNOWN, f"Marked meanwhile, take them off KNOWN: {KNOWN - known}"


def test_the_walk_finds_what_it_looks_for():
    # A walk that matched nothing would pass the test above: this shows it sees each form
    # and lets the marked ones be.
    code = """
Refusal("No.")
Refusal(fields={"when": f"Not {x}."})
problems.add("text", "Paste it.")
problems["text"] = "Paste it."
messages.success(request, "Saved.")
Refusal(_("No."), fields={"when": _("Not %(x)s.") % {"x": x}})
problems.add("text", message)
messages.info(request, gettext("Saved."))
errors["url"] = f"{refused}."
Refusal(problems or "Pick an action.")
rules.text(text, required="Write a comment first.")
class LinkExpired(Refusal):
    def __init__(self):
        super().__init__("This review link has expired.", status=410)
rules.text(text, required=True)
done(request, "Post deleted.", redirect_to=back)
done(request, "" if undo else _("Post deleted."), redirect_to=back)
"""
    lines = [line for line, _what, _text in _problems(ast.parse(code))]
    assert lines == [2, 3, 4, 5, 6, 10, 11, 12, 15, 17]
