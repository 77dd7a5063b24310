"""One kind of "no": what the app will not do, in words for the person who asked.

Services and model transitions raise `Refusal`; views answer it with `web.answers.refused`,
the same way for HTMX and plain requests. A refusal about the input names its fields, so a
form shows each message next to its field.
"""

from __future__ import annotations

from collections.abc import Mapping

from scripe_integration.sentences import Said


class Refusal(Exception):
    """A request the rules, the slot's state or Scripe do not allow.

    `status` is the HTTP answer: 409 when the state does not allow it (or someone else
    changed it first), 422 when the input is wrong, 410 when it is too late. `fields` maps
    input names to messages. `stale` says the asker's page shows an outdated state and
    should refresh to the truth.
    """

    status = 409

    def __init__(
        self,
        message: str = "",
        *,
        fields: Mapping[str, str] | None = None,
        status: int | None = None,
        stale: bool = False,
    ) -> None:
        self.fields = dict(fields or {})
        if isinstance(message, Said):  # Scripe's library says it in English until asked
            message = message.shown()
        self.message = message or " ".join(self.fields.values())
        if status is not None:
            self.status = status
        elif self.fields:
            self.status = 422
        self.stale = stale
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message
