"""What people read: sentences end once, and the words are the product's."""

from __future__ import annotations

import pytest
from django.template import Context, Template

from calendar_app.templatetags.sentences import sentence


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
