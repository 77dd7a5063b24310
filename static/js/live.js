// Live updates: what changed on the server shows on the page without a reload.
// One request per page per interval, however many cards: every LIVE_MS while something on
// the page is in flight, every HEARTBEAT_MS otherwise, none while the tab is hidden. The page
// says what it shows (`since`, its window, an open panel) and gets back only what changed:
// cards, rows and panels that changed in place are swapped here; anything added, removed
// or moved makes the region refresh itself (`slots-stale`). See calendar_app/planning/views/live.py.
// The intervals are settings (LIVE_POLL_SECONDS, LIVE_HEARTBEAT_SECONDS), given on <body>.
import { announce, phrase } from "./a11y.js";
import { nameOf } from "./drag.js";
import { cardPlace, focusAgain } from "./swaps.js";

const LIVE_MS = Number(document.body.dataset.liveMs) || 2000;
const HEARTBEAT_MS = Number(document.body.dataset.heartbeatMs) || 20000;
let liveSince = null;
let liveFloor = null; // the oldest `since` of a region swapped in while a poll was out
let livePending = false;
let liveAgain = false; // asked to poll at once while a poll was out: ask again when it is back
let lastPoll = 0;

function lowerSince(value) {
  const since = Number(value);
  if (!since) return;
  if (liveSince === null || since < liveSince) liveSince = since;
  if (livePending && (liveFloor === null || since < liveFloor)) liveFloor = since;
}

function liveRegion() {
  return document.querySelector("[data-live-view]");
}

function liveParams() {
  const region = liveRegion();
  const params = new URLSearchParams(region ? region.dataset.liveQuery : "");
  if (region) params.set("view", region.dataset.liveView);
  params.set("since", String(liveSince));
  const panel = document.querySelector(".slot-status[data-slot]");
  if (panel) params.set("panel", panel.dataset.slot);
  const checks = Array.from(document.querySelectorAll("[data-recheck][data-version]"),
    (el) => el.dataset.slot + "." + el.dataset.version);
  if (checks.length) params.set("check", checks.join(","));
  // The bell's count as shown: the answer brings a new bell only when it differs.
  const bell = document.getElementById("bell");
  if (bell && bell.dataset.bellCount) params.set("bell", bell.dataset.bellCount);
  // The Review count in the menu (managers), the same way.
  const waiting = document.getElementById("review-count");
  if (waiting && waiting.dataset.reviewCount) params.set("review", waiting.dataset.reviewCount);
  return params;
}

// Where a slot is on the page: its card or row, or its entry behind a day's "+N more".
function placedAt(slotId) {
  const shown = document.querySelector('[data-live-view] [data-slot="' + slotId + '"][data-at]');
  if (shown) return shown.dataset.at;
  for (const more of document.querySelectorAll("[data-more]")) {
    for (const entry of more.dataset.more.trim().split(/\s+/)) {
      const [id, at] = entry.split(":");
      if (id === slotId) return at;
    }
  }
  return null;
}

// A list shows one page of slots in time order: a slot that is not on it belongs there only
// if its time falls between the page's neighbours.
function belongsOnListPage(region, at) {
  const after = Number(region.dataset.liveAfter || "-Infinity");
  const before = Number(region.dataset.liveBefore || "Infinity");
  return Number(at) >= after && Number(at) <= before;
}

function applyLive(html) {
  const box = document.createElement("template");
  box.innerHTML = html;
  const region = liveRegion();
  let stale = false;
  for (const part of box.content.querySelectorAll("[data-slot][data-version]")) {
    const current = document.getElementById(part.id);
    if (current) {
      if (current.dataset.version === part.dataset.version) continue;
      if (part.dataset.at && current.dataset.at !== part.dataset.at) { stale = true; continue; }
      part.removeAttribute("data-live-since");
      const focused = current.contains(document.activeElement) ? cardPlace() : null;
      announceStatus(current, part);
      current.replaceWith(part);
      htmx.process(part);
      tick(part);
      focusAgain(focused);
    } else if (region && part.dataset.at) {
      const at = placedAt(part.dataset.slot);
      if (at === null) {
        stale = stale || region.dataset.liveView !== "list" || belongsOnListPage(region, part.dataset.at);
      } else if (at !== part.dataset.at) {
        stale = true;
      }
    }
  }
  const bell = box.content.querySelector("#bell");
  if (bell) document.getElementById("bell")?.replaceWith(bell);
  const waiting = box.content.querySelector("#review-count");
  if (waiting) document.getElementById("review-count")?.replaceWith(waiting);
  for (const gone of box.content.querySelectorAll("[data-live-gone]")) {
    if (placedAt(gone.dataset.liveGone) !== null) stale = true;
  }
  if (stale) htmx.trigger(document.body, "slots-stale");
}

// A card whose status changed says so through the live region (politely, once: only a
// version that changed gets here, and only a new status is said, not a ticking progress).
function announceStatus(old, part) {
  const before = old.querySelector(".badge");
  const after = part.querySelector(".badge");
  if (!before || !after || before.textContent.trim() === after.textContent.trim()) return;
  announce(phrase("status", { name: nameOf(part), status: after.textContent.trim() }));
}

function liveDue() {
  if (document.hidden || livePending || liveSince === null) return false;
  const busy = document.querySelector("[data-in-flight], [data-recheck]");
  return Date.now() - lastPoll >= (busy ? LIVE_MS : HEARTBEAT_MS) - 100;
}

async function livePoll() {
  if (!liveDue()) return;
  livePending = true;
  liveFloor = null;
  lastPoll = Date.now();
  try {
    const response = await fetch("/slots/live/?" + liveParams(), {
      headers: { "HX-Request": "true" },
      credentials: "same-origin",
    });
    const since = Number(response.headers.get("X-Live-Since"));
    if (response.status === 200) applyLive(await response.text());
    if (response.headers.get("X-Live-Refresh")) htmx.trigger(document.body, "slots-stale");
    if (since) liveSince = liveFloor === null ? since : Math.min(since, liveFloor);
  } catch (e) {
    // Offline for a moment: the next poll asks again from the same `since`.
  } finally {
    livePending = false;
    if (liveAgain) pollNow();
  }
}

function pollNow() {
  liveAgain = livePending;
  lastPoll = 0;
  livePoll();
}

setInterval(livePoll, 500);

// A post's own page (/slots/<id>/) has no region that refreshes itself after an action: after
// Generate, Cancel, Retry (any answer that says `slots-changed`) it asks what changed at once,
// so the panel and its activity show the new state now; a panel in flight is then asked after
// every LIVE_MS. (In the dialog, the action closes it and the calendar refreshes itself.)
document.body.addEventListener("slots-changed", () => {
  if (document.querySelector("#main .slot-status[data-slot]")) pollNow();
});
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) { lastPoll = 0; livePoll(); }
});

// New regions and panels bring the moment they were rendered at; each is taken once.
function adoptSince(root) {
  root.querySelectorAll("[data-live-since]").forEach((el) => {
    lowerSince(el.dataset.liveSince);
    el.removeAttribute("data-live-since");
  });
}
document.body.addEventListener("htmx:afterSwap", () => { adoptSince(document); tick(document); });

// Times that tick: how long Scripe has been at it, and a retry's countdown.
function tick(root) {
  const now = Date.now() / 1000;
  root.querySelectorAll("[data-elapsed-from]").forEach((el) => {
    const seconds = Math.max(0, Math.floor(now - Number(el.dataset.elapsedFrom)));
    el.textContent = seconds < 60 ? seconds + " s" : Math.floor(seconds / 60) + " min " + (seconds % 60) + " s";
  });
  root.querySelectorAll("[data-countdown-to]").forEach((el) => {
    const seconds = Math.max(0, Math.ceil(Number(el.dataset.countdownTo) - now));
    el.textContent = el.textContent.replace(/\d+ s\b/, seconds + " s");
  });
}
setInterval(() => tick(document), 1000);

document.addEventListener("DOMContentLoaded", () => {
  adoptSince(document);
  lastPoll = Date.now();
  tick(document);
});
