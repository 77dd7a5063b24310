"""`{{ text|sentence }}`: a text the template does not control, ended with one full stop
(`core.sentences`)."""

from __future__ import annotations

from django import template

from calendar_app.core import sentences

register = template.Library()
register.filter("sentence", sentences.sentence, is_safe=True)
