"""The browser's live poll, played in Python for bench/load.py: what a page asks `/slots/live/`
for, read from the HTML it got. It mirrors the live updates of static/js/live.js (the parameters a
page sends, the poll, how an answer is applied) and `slots_live` in
calendar_app/planning/views/live.py: when the page starts sending something else, this module
is the one place to change."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

import httpx

LIVE_PATH = "/slots/live/"


LIVE_EVERY = 2.0  # live.js: LIVE_MS while anything is in flight


HEARTBEAT_EVERY = 20.0


LIVE_STATUS = {200, 204, 286}  # 204: nothing changed; 286: the answer before issue 19


TAG = re.compile(r"<[a-z]+\b[^>]*\bdata-(?:slot|live-[a-z]+|more)=[^>]*>")


ATTR = re.compile(r'([\w-]+)(?:="([^"]*)")?')


def attributes(tag: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in ATTR.findall(tag[1:-1])}


@dataclass
class Poll:
    path: str
    params: list[tuple[str, str]]
    every: float  # seconds from one poll to the next


@dataclass
class LivePage:
    """What live.js knows about the page: its live region (`data-live-view`, its query and
    bounds), the `since` it was rendered at, the open panel, and every card, row and panel
    (by element id) with its version, time and state."""

    url: str
    view: str = ""
    query: str = ""
    refresh_url: str = ""  # the region's hx-get, which `slots-stale` fires
    bounds: tuple[float, float] = (float("-inf"), float("inf"))
    since: int | None = None
    panel: str = ""
    shown: dict[str, dict[str, str]] = field(default_factory=dict)
    more: dict[str, str] = field(default_factory=dict)  # behind a day's "+N more": id -> at
    # Every element about a slot, for data-in-flight (a list row's state cell has no version).
    flags: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def parse(cls, url: str, text: str) -> LivePage:
        page = cls(url)
        page.adopt(text)
        return page

    def adopt(self, text: str) -> None:
        """A page, or a region swapped in: its elements, and the oldest `since` it brings."""
        for tag in TAG.findall(text):
            a = attributes(tag)
            if "data-live-view" in a:
                self.view, self.query = a["data-live-view"], a.get("data-live-query", "")
                self.refresh_url = a.get("hx-get", self.url)
                after, before = a.get("data-live-after"), a.get("data-live-before")
                self.bounds = (float(after or "-inf"), float(before or "inf"))
            if a.get("data-live-since", "").isdigit():
                since = int(a["data-live-since"])
                self.since = since if self.since is None else min(self.since, since)
            for entry in a.get("data-more", "").split():
                slot, _, at = entry.partition(":")
                self.more[slot] = at
            if "data-slot" in a and "id" in a:
                self.flags[a["id"]] = a
            if "data-slot" in a and "data-version" in a and "id" in a:
                self.shown[a["id"]] = a
                if a.get("class", "").startswith("slot-status"):
                    self.panel = a["data-slot"]

    def placed_at(self, slot: str) -> str | None:
        for a in self.shown.values():
            if a["data-slot"] == slot and "data-at" in a:
                return a["data-at"]
        return self.more.get(slot)

    def absorb(self, response: httpx.Response) -> bool:
        """applyLive: swaps what changed in place; True when the region must refresh itself
        (a card added, moved or gone, or the server says so)."""
        stale = bool(response.headers.get("X-Live-Refresh"))
        if response.status_code == 200:
            for tag in TAG.findall(response.text):
                a = attributes(tag)
                gone = a.get("data-live-gone")
                if gone and self.placed_at(gone) is not None:
                    stale = True
                if "data-slot" in a and "data-version" not in a and a.get("id") in self.flags:
                    self.flags[a["id"]] = a  # swapped in with the card or row around it
                if "data-slot" not in a or "data-version" not in a:
                    continue
                current = self.shown.get(a.get("id", ""))
                if current is not None:
                    if current["data-version"] == a["data-version"]:
                        continue
                    if a.get("data-at") and current.get("data-at") != a["data-at"]:
                        stale = True
                        continue
                    self.shown[a["id"]] = self.flags[a["id"]] = a
                elif self.view and a.get("data-at"):
                    at = self.placed_at(a["data-slot"])
                    if at is None:
                        low, high = self.bounds
                        stale = stale or self.view != "list" or low <= float(a["data-at"]) <= high
                    elif at != a["data-at"]:
                        stale = True
        if response.headers.get("X-Live-Since", "").isdigit():
            self.since = int(response.headers["X-Live-Since"])
        return stale

    def refreshed(self, text: str) -> None:
        """The region swapped in anew (its cards and rows replace the old ones)."""
        self.shown = {k: a for k, a in self.shown.items() if "data-at" not in a}
        self.flags = {k: a for k, a in self.flags.items() if k in self.shown}
        self.more = {}
        self.adopt(text)


def live_poll(page: LivePage) -> Poll | None:
    """The request live.js makes for this page (liveParams), or None when it makes none."""
    if page.since is None:
        return None
    params = parse_qsl(page.query, keep_blank_values=True) if page.view else []
    if page.view:
        params.append(("view", page.view))
    params.append(("since", str(page.since)))
    if page.panel:
        params.append(("panel", page.panel))
    checks = [
        f"{a['data-slot']}.{a['data-version']}" for a in page.shown.values() if "data-recheck" in a
    ]
    if checks:
        params.append(("check", ",".join(checks)))
    busy = any("data-in-flight" in a or "data-recheck" in a for a in page.flags.values())
    return Poll(LIVE_PATH, params, LIVE_EVERY if busy else HEARTBEAT_EVERY)


LIVE_HEADERS = {"HX-Request": "true"}  # live.js's fetch() sends only this
