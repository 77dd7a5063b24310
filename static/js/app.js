// Scripe Calendar: the little behaviour htmx does not cover. No inline scripts anywhere (CSP).
(function () {
  "use strict";

  const dialog = () => document.getElementById("dialog");
  const dialogBody = () => document.getElementById("dialog-body");

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
    } catch (e) {
      return "";
    }
  }

  // Toasts -------------------------------------------------------------------------------------
  function toast(message, kind) {
    const box = document.getElementById("toasts");
    const item = document.createElement("div");
    item.className = "toast" + (kind ? " toast-" + kind : "");
    item.setAttribute("role", kind === "error" ? "alert" : "status");
    item.textContent = message;
    box.appendChild(item);
    setTimeout(() => item.remove(), 5000);
  }

  document.body.addEventListener("toast", (event) => toast(event.detail.message, event.detail.kind));

  function expireToasts(root) {
    root.querySelectorAll(".toast[data-expires]").forEach((item) => {
      const seconds = parseInt(item.dataset.expires, 10) || 10;
      item.removeAttribute("data-expires");
      setTimeout(() => item.remove(), seconds * 1000);
    });
  }

  // The dialog ---------------------------------------------------------------------------------
  document.body.addEventListener("htmx:afterSwap", (event) => {
    const body = dialogBody();
    if (body && (event.detail.target === body || body.contains(event.detail.target))) {
      if (!dialog().open) dialog().showModal();
      const first = body.querySelector("textarea, select, input:not([type=hidden])");
      if (first && event.detail.target === body) first.focus();
    }
    expireToasts(document);
    syncTimeLimits();
  });

  function closeDialog() {
    const d = dialog();
    if (d && d.open) d.close();
  }

  dialog().addEventListener("close", () => { dialogBody().innerHTML = ""; });
  document.body.addEventListener("slots-changed", closeDialog);
  document.addEventListener("click", (event) => {
    const closer = event.target.closest("[data-close-dialog]");
    if (closer && dialog().contains(closer)) {
      event.preventDefault();
      closeDialog();
    }
  });

  // htmx does not swap error responses. A refusal carries its own toast event (HX-Trigger);
  // anything else still gets a sentence instead of nothing.
  document.body.addEventListener("htmx:responseError", (event) => {
    const xhr = event.detail.xhr;
    if ((xhr.getResponseHeader("HX-Trigger") || "").includes('"toast"')) return;
    const text = xhr.getResponseHeader("Content-Type")?.startsWith("text/plain") ? xhr.responseText : "";
    toast(text || "Something went wrong (" + xhr.status + "). Try again.", "error");
  });
  document.body.addEventListener("htmx:sendError", () => toast("The server cannot be reached. Check your connection.", "error"));

  // Clicking the empty part of a day plans a post on it (the "+" link does the same).
  document.addEventListener("click", (event) => {
    const day = event.target.closest(".calendar .day[data-date]");
    if (!day || event.target.closest("a, button, .slot-card")) return;
    const add = day.querySelector(".day-add");
    if (add) add.click();
  });

  // The date picker ----------------------------------------------------------------------------
  function syncTimeLimits() {
    const picker = document.getElementById("date-picker");
    const dateInput = document.getElementById("id_date");
    const timeSelect = document.getElementById("id_time");
    if (!picker || !dateInput || !timeSelect) return;
    const [minDate, minTime] = (picker.dataset.min || "T").split("T");
    const sameDay = dateInput.value === minDate;
    let firstEnabled = null;
    for (const option of timeSelect.options) {
      option.disabled = sameDay && option.value < minTime;
      if (!option.disabled && firstEnabled === null) firstEnabled = option;
    }
    if (timeSelect.selectedOptions[0]?.disabled && firstEnabled) firstEnabled.selected = true;
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-pick-date]");
    if (!button || button.disabled) return;
    const picker = button.closest(".picker");
    document.getElementById("id_date").value = button.dataset.pickDate;
    picker.querySelectorAll("[data-pick-date]").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
    picker.querySelector("[data-picker-chosen]").textContent = button.getAttribute("aria-label");
    syncTimeLimits();
  });

  // Drag a card to another day, or on the week's grid to an hour (#15) --------------------------
  let dragged = null;
  const DROP = ".day[data-date], .hour-cell[data-date]";
  // Where in an hour cell the card was dropped, to the nearest quarter hour ("HH:MM").
  const dropTime = (cell, event) => {
    const rect = cell.getBoundingClientRect();
    const quarter = Math.min(3, Math.max(0, Math.round(((event.clientY - rect.top) / rect.height) * 4)));
    return String(cell.dataset.hour).padStart(2, "0") + ":" + String(quarter * 15).padStart(2, "0");
  };

  document.addEventListener("dragstart", (event) => {
    const card = event.target.closest && event.target.closest("[data-move-url]");
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.id);
    card.classList.add("dragging");
  });
  document.addEventListener("dragend", () => {
    if (dragged) dragged.classList.remove("dragging");
    document.querySelectorAll(".drop-target[data-date]").forEach((d) => d.classList.remove("drop-target"));
    dragged = null;
  });
  document.addEventListener("dragover", (event) => {
    const day = dragged && event.target.closest(DROP);
    if (!day) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    document.querySelectorAll(".drop-target[data-date]").forEach((d) => d !== day && d.classList.remove("drop-target"));
    day.classList.add("drop-target");
  });
  document.addEventListener("drop", async (event) => {
    const day = dragged && event.target.closest(DROP);
    if (!day) return;
    event.preventDefault();
    const card = dragged;
    day.classList.remove("drop-target");
    const body = new URLSearchParams({ date: day.dataset.date });
    if (day.dataset.hour !== undefined) body.set("time", dropTime(day, event));
    else if (card.closest(".day") === day) return;
    let response;
    try {
      response = await fetch(card.dataset.moveUrl, {
        method: "POST",
        body,
        headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true" },
        credentials: "same-origin",
      });
    } catch (e) {
      toast("The server cannot be reached; the slot was not moved.", "error");
      return;
    }
    // Done or refused, the answer carries its toast; a refused card never left its day, so
    // it needs no undo. A scheduled post's new time comes as a toast with its own Undo.
    const events = JSON.parse(response.headers.get("HX-Trigger") || "{}");
    const html = response.ok && response.status !== 204 ? (await response.text()).trim() : "";
    if (events.toast) toast(events.toast.message, events.toast.kind);
    else if (html) {
      const box = document.getElementById("toasts");
      box.insertAdjacentHTML("beforeend", html);
      htmx.process(box.lastElementChild);
      expireToasts(box);
    } else if (!response.ok) toast("The slot was not moved (" + response.status + ").", "error");
    htmx.trigger(document.body, "slots-changed");
  });

  // Queue page (#15): drag a queued post onto another to swap their schedule times. The
  // server swaps them in one transaction (conditional updates) and the list refreshes itself.
  let queued = null;
  document.addEventListener("dragstart", (event) => {
    const post = event.target.closest && event.target.closest("[data-reorder-url] [data-slot-id][draggable]");
    if (!post) return;
    queued = post;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", post.dataset.slotId);
    post.classList.add("dragging");
  });
  document.addEventListener("dragend", () => {
    if (queued) queued.classList.remove("dragging");
    document.querySelectorAll(".queue-time.drop-target").forEach((t) => t.classList.remove("drop-target"));
    queued = null;
  });
  document.addEventListener("dragover", (event) => {
    const row = queued && event.target.closest(".queue-time");
    const target = row && row.querySelector("[data-slot-id][draggable]");
    if (!target || target === queued) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    document.querySelectorAll(".queue-time.drop-target").forEach((t) => t !== row && t.classList.remove("drop-target"));
    row.classList.add("drop-target");
  });
  document.addEventListener("drop", async (event) => {
    const row = queued && event.target.closest(".queue-time");
    const target = row && row.querySelector("[data-slot-id][draggable]");
    if (!target || target === queued) return;
    event.preventDefault();
    const list = queued.closest("[data-reorder-url]");
    const ids = [...list.querySelectorAll("[data-slot-id][draggable]")].map((p) => p.dataset.slotId);
    const from = ids.indexOf(queued.dataset.slotId);
    const to = ids.indexOf(target.dataset.slotId);
    [ids[from], ids[to]] = [ids[to], ids[from]];
    const body = new URLSearchParams();
    ids.forEach((id) => body.append("order", id));
    let response;
    try {
      response = await fetch(list.dataset.reorderUrl, {
        method: "POST",
        body,
        headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true" },
        credentials: "same-origin",
      });
    } catch (e) {
      toast("The server cannot be reached; the queue was not changed.", "error");
      return;
    }
    const events = JSON.parse(response.headers.get("HX-Trigger") || "{}");
    if (events.toast) toast(events.toast.message, events.toast.kind);
    else if (!response.ok) toast("The queue was not changed (" + response.status + ").", "error");
    htmx.trigger(document.body, "slots-changed");
  });

  // Review: a live LinkedIn preview and character count while the draft is edited.
  document.addEventListener("input", (event) => {
    const source = event.target.closest("[data-preview-source]");
    if (!source) return;
    const panel = source.closest("#review-panel");
    const preview = panel.querySelector("[data-preview]");
    const count = panel.querySelector("[data-count]");
    preview.textContent = source.value;
    count.textContent = source.value.length;
    count.classList.toggle("over-limit", source.value.length > parseInt(source.dataset.limit, 10));
  });
  document.addEventListener("click", (event) => {
    const more = event.target.closest("[data-see-more]");
    if (!more) return;
    const text = more.parentElement.querySelector("[data-preview]");
    const folded = text.classList.toggle("li-folded");
    more.textContent = folded ? "…see more" : "see less";
  });

  // Review without the mouse: j/k move through the queue, a approves, e edits, c and x jump
  // to the request-changes and reject boxes. Keys typed into a field are left alone.
  document.addEventListener("keydown", (event) => {
    const review = document.getElementById("review");
    if (!review || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("input, textarea, select, [contenteditable]")) return;
    const key = event.key.toLowerCase();
    if (key === "j" || key === "k") {
      const items = Array.from(review.querySelectorAll("[data-review-item]"));
      const at = items.findIndex((item) => item.getAttribute("aria-current") === "true");
      const next = items[at + (key === "j" ? 1 : -1)];
      if (next) { event.preventDefault(); next.click(); }
      return;
    }
    const target = review.querySelector('[data-key="' + key + '"]');
    if (!target) return;
    event.preventDefault();
    if (target.matches("input, textarea")) target.focus();
    else target.click();
  });

  // Review: after a decision (or a move through the queue) the next draft opens at its top
  // with its heading focused, and the change is announced; an answer that leaves the same
  // draft open (Save draft, a refused field) moves nothing. Without this the page stayed
  // scrolled where the Approve button was, under the next post's text.
  let reviewing = null;
  document.addEventListener("DOMContentLoaded", () => {
    reviewing = document.getElementById("review-panel")?.dataset.slot || null;
  });
  document.body.addEventListener("htmx:afterSettle", () => {
    const panel = document.getElementById("review-panel");
    const open = panel ? panel.dataset.slot : null;
    if (open === reviewing) return;
    reviewing = open;
    if (!panel) return;
    document.getElementById("review-heading")?.focus({ preventScroll: true });
    if (panel.getBoundingClientRect().top < 0) panel.scrollIntoView({ block: "start" });
    const announcer = document.getElementById("review-announcer");
    if (announcer) announcer.textContent = panel.dataset.announce;
  });

  // Live updates --------------------------------------------------------------------------------
  // One request per page per interval, however many cards: every LIVE_MS while something on
  // the page is in flight, every HEARTBEAT_MS otherwise, none while the tab is hidden. The page
  // says what it shows (`since`, its window, an open panel) and gets back only what changed:
  // cards, rows and panels that changed in place are swapped here; anything added, removed
  // or moved makes the region refresh itself (`slots-stale`). See planning/views/live.py.
  const LIVE_MS = 2000;
  const HEARTBEAT_MS = 20000;
  let liveSince = null;
  let liveFloor = null; // the oldest `since` of a region swapped in while a poll was out
  let livePending = false;
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
        current.replaceWith(part);
        htmx.process(part);
        tick(part);
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
    }
  }

  setInterval(livePoll, 500);
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
    expireToasts(document);
    syncTimeLimits();
    adoptSince(document);
    lastPoll = Date.now();
    tick(document);
  });
})();

// Bulk actions (#16) ---------------------------------------------------------------------------
// Tick rows (or, in the calendar's select mode, cards), shift-click for a range, or "select
// all matching the filter", which the server resolves itself (scope=filter): the ids on the
// page are not what it acts on then. The selection is kept here, so paging and live updates
// that replace rows keep it; the bar's request sends it as `slot` ids.
(function () {
  "use strict";
  const selected = new Set();
  let allMatching = 0; // > 0: every slot the filter matches (that many), not the ticked ones
  let last = null; // the last box ticked by hand, where a shift-click range starts

  const bar = () => document.querySelector("[data-bulk-bar]");
  const boxes = () => Array.from(document.querySelectorAll("[data-bulk-check]"));
  const selecting = () => document.body.classList.contains("bulk-selecting");

  function say(message, kind) {
    document.body.dispatchEvent(new CustomEvent("toast", { detail: { message, kind } }));
  }

  function show() {
    const form = bar();
    const count = allMatching || selected.size;
    boxes().forEach((box) => {
      box.checked = allMatching > 0 || selected.has(box.value);
      box.closest(".slot-card")?.classList.toggle("bulk-selected", box.checked);
    });
    const page = document.querySelector("[data-bulk-page]");
    if (page) page.checked = boxes().length > 0 && boxes().every((box) => box.checked);
    document.querySelectorAll("[data-bulk-select-mode]").forEach((b) => b.setAttribute("aria-pressed", String(selecting())));
    if (!form) return;
    form.classList.toggle("bulk-active", count > 0);
    form.querySelector("[data-bulk-scope]").value = allMatching ? "filter" : "ids";
    form.querySelector("[data-bulk-count]").textContent = allMatching
      ? "All " + allMatching + " posts matching the filter"
      : count ? count + " selected" : "Tick posts";
    form.querySelector("[data-bulk-hint]").hidden = count > 0;
    form.querySelector("[data-bulk-clear]").hidden = count === 0;
  }

  function clear() {
    selected.clear();
    allMatching = 0;
    last = null;
    show();
  }

  function pick(box, on, range) {
    if (allMatching) {
      // Unticking one of "all matching" leaves the ticked ones on this page.
      boxes().forEach((b) => selected.add(b.value));
      allMatching = 0;
    }
    const list = boxes();
    const from = range && last ? list.findIndex((b) => b.value === last) : -1;
    const to = list.indexOf(box);
    const span = from >= 0 ? list.slice(Math.min(from, to), Math.max(from, to) + 1) : [box];
    span.forEach((b) => (on ? selected.add(b.value) : selected.delete(b.value)));
    last = box.value;
    show();
  }

  document.addEventListener("click", (event) => {
    const box = event.target.closest("[data-bulk-check]");
    if (box) { pick(box, box.checked, event.shiftKey); return; }
    if (event.target.closest("[data-bulk-page]")) {
      const on = event.target.checked;
      if (!on) allMatching = 0;
      boxes().forEach((b) => (on ? selected.add(b.value) : selected.delete(b.value)));
      show();
      return;
    }
    const all = event.target.closest("[data-bulk-all]");
    if (all) { allMatching = Number(all.dataset.bulkAll) || 0; show(); return; }
    if (event.target.closest("[data-bulk-clear]")) { clear(); return; }
    const mode = event.target.closest("[data-bulk-select-mode]");
    if (mode) {
      const on = !selecting();
      document.body.classList.toggle("bulk-selecting", on);
      const dock = document.getElementById("bulk-dock");
      if (on && dock && !dock.querySelector("[data-bulk-bar]")) {
        htmx.ajax("GET", dock.dataset.bulkBarUrl, { target: dock, swap: "innerHTML" });
      }
      if (!on) clear();
      decorate();
      show();
    }
  });

  // Select mode on the calendar: a card is ticked by clicking it anywhere (it does not open).
  document.addEventListener("click", (event) => {
    if (!selecting()) return;
    const card = event.target.closest("#calendar .slot-card");
    if (!card || event.target.closest("[data-bulk-check]")) return;
    event.preventDefault();
    event.stopPropagation();
    const box = card.querySelector("[data-bulk-check]");
    if (box) { box.checked = !box.checked; pick(box, box.checked, event.shiftKey); }
  }, true);

  // Cards get a box while selecting (cards are rendered once and shared, so not in markup).
  function decorate() {
    document.querySelectorAll("#calendar .slot-card[data-slot]").forEach((card) => {
      const box = card.querySelector("[data-bulk-check]");
      if (!selecting()) { box?.remove(); return; }
      if (box) return;
      const input = document.createElement("input");
      input.type = "checkbox";
      input.name = "slot";
      input.value = card.dataset.slot;
      input.className = "bulk-card-check";
      input.setAttribute("form", "bulk-form");
      input.setAttribute("data-bulk-check", "");
      input.setAttribute("aria-label", "Select " + (card.querySelector(".slot-open")?.title || "this slot"));
      card.prepend(input);
    });
  }

  // A new filter is a new question: the selection made for the old one goes.
  document.body.addEventListener("htmx:beforeRequest", (event) => {
    if (event.detail.elt.closest && event.detail.elt.closest(".filters")) clear();
  });

  // Rows and cards replaced (paging, a refresh, the live poll) show the selection again.
  let pending = false;
  new MutationObserver(() => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; decorate(); show(); });
  }).observe(document.body, { childList: true, subtree: true });

  document.body.addEventListener("htmx:configRequest", (event) => {
    if (event.detail.elt.id !== "bulk-form") return;
    const data = event.detail.formData;
    data.delete("slot");
    if (!allMatching) selected.forEach((id) => data.append("slot", id));
    if (!allMatching && selected.size === 0) {
      event.preventDefault();
      say("Tick the slots to act on first.", "error");
    }
  });

  // A finished delete leaves nothing to act on again; other actions keep the selection.
  document.body.addEventListener("bulk-done", (event) => {
    if (event.detail && event.detail.action === "delete") clear();
  });

  document.addEventListener("DOMContentLoaded", () => { decorate(); show(); });
})();
