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

  // Drag a card to another day -----------------------------------------------------------------
  let dragged = null;

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
    document.querySelectorAll(".day.drop-target").forEach((d) => d.classList.remove("drop-target"));
    dragged = null;
  });
  document.addEventListener("dragover", (event) => {
    const day = dragged && event.target.closest(".day[data-date]");
    if (!day) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    document.querySelectorAll(".day.drop-target").forEach((d) => d !== day && d.classList.remove("drop-target"));
    day.classList.add("drop-target");
  });
  document.addEventListener("drop", async (event) => {
    const day = dragged && event.target.closest(".day[data-date]");
    if (!day) return;
    event.preventDefault();
    const card = dragged;
    day.classList.remove("drop-target");
    if (card.closest(".day") === day) return;
    const body = new URLSearchParams({ date: day.dataset.date });
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
    // it needs no undo.
    const events = JSON.parse(response.headers.get("HX-Trigger") || "{}");
    if (events.toast) toast(events.toast.message, events.toast.kind);
    else if (!response.ok) toast("The slot was not moved (" + response.status + ").", "error");
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

  // Live cards -----------------------------------------------------------------------------------
  // One request per page every LIVE_MS, however many cards: it names the in-flight cards and
  // panels on the page and gets their fresh partials back as out-of-band swaps. Nothing in
  // flight, no request.
  const LIVE_MS = 2000;
  let livePending = false;

  function liveIds(selector) {
    return Array.from(document.querySelectorAll(selector + "[data-in-flight]"), (el) => el.dataset.slot).join(",");
  }

  function livePoll() {
    if (livePending || document.hidden) return;
    const cards = liveIds(".slot-card");
    const panels = liveIds(".slot-status");
    const rows = liveIds(".slot-row-state");
    if (!cards && !panels && !rows) return;
    livePending = true;
    const url = "/slots/live/?" + new URLSearchParams({ cards, panels, rows });
    htmx.ajax("GET", url, { target: "#live-sink", swap: "none" }).finally(() => { livePending = false; });
  }

  setInterval(livePoll, LIVE_MS);

  document.addEventListener("DOMContentLoaded", () => {
    expireToasts(document);
    syncTimeLimits();
  });
})();
