"""A stand-in ghost-writer: turns a source note into a plausible LinkedIn post.

Deterministic: the same source, language and project always give the same post, so tests
and demos can rely on the text. It only reshapes what the editor wrote; it knows nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter

HOOKS = {
    "en": [
        "Here is something I learned the hard way:",
        "Nobody talks about this enough.",
        "A small idea that changed how we work:",
        "I used to get this wrong. Then I tried something else.",
    ],
    "de": [
        "Das habe ich auf die harte Tour gelernt:",
        "Darüber spricht kaum jemand.",
        "Eine kleine Idee, die unsere Arbeit verändert hat:",
    ],
    "fr": [
        "Voici ce que j'ai appris à mes dépens :",
        "Personne n'en parle assez.",
        "Une petite idée qui a changé notre façon de travailler :",
    ],
    "es": [
        "Esto lo aprendí por las malas:",
        "Nadie habla lo suficiente de esto.",
        "Una pequeña idea que cambió nuestra forma de trabajar:",
    ],
}
CLOSERS = {
    "en": "What would you add?",
    "de": "Was würdet ihr ergänzen?",
    "fr": "Qu'ajouteriez-vous ?",
    "es": "¿Qué añadirías tú?",
}
STOPWORDS = frozenset(
    "about after again also because before being could every first other their there these "
    "thing things think those through which while would should where what when with your "
    "from have that this they them then than just into over more most some very will were "
    "aber auch eine einen einer haben nicht oder sind über wenn dass dann denn noch schon "
    "avec dans pour sont mais plus nous vous leur cette comme para pero como esta este".split()
)


def _digest(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:8], "big")


def _sentences(text: str) -> list[str]:
    flat = re.sub(r"\s+", " ", text).strip()
    parts = re.split(r"(?<=[.!?])\s+", flat)
    return [p.strip() for p in parts if len(p.strip()) > 2]


def _hashtags(text: str, count: int = 3) -> list[str]:
    words = re.findall(r"[^\W\d_]{5,}", text.lower())
    ranked = Counter(w for w in words if w not in STOPWORDS).most_common()
    tags = [f"#{word.capitalize()}" for word, _ in ranked[:count]]
    return tags or ["#LinkedIn"]


def write_post(source_text: str, *, language: str | None, project_name: str) -> tuple[str, str]:
    """Returns (title, content) for a source note."""
    lang = (language or "en").split("-")[0].lower()
    hooks = HOOKS.get(lang, HOOKS["en"])
    seed = _digest(source_text, lang, project_name)
    hook = hooks[seed % len(hooks)]
    sentences = _sentences(source_text) or [source_text.strip()]
    paragraphs = [s if s[-1] in ".!?" else s + "." for s in sentences[:6]]
    body = "\n\n".join(paragraphs)
    closer = CLOSERS.get(lang, CLOSERS["en"])
    tags = " ".join(_hashtags(source_text))
    content = f"{hook}\n\n{body}\n\n{closer}\n\n{tags}"
    first = paragraphs[0].rstrip(".!?")
    title = first if len(first) <= 80 else first[:77].rstrip() + "…"
    return title, content
