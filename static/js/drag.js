// Drag and drop, once for every page that has it: the calendar (a card onto a day or an hour,
// calendar.js), the queue (a queued post onto another's time, queue.js) and the ideas panel
// (an idea onto a day, an hour or a queue, ideas.js). Each can be done with the keyboard
// too (#30): M on what can be picked up, the arrow keys choose the place, Enter drops it
// there, Escape puts it back; every step is announced to screen readers.
import { announce, phrase } from "./a11y.js";
import { expireToasts, toast } from "./toasts.js";

// `source`: a selector for what can be picked up. `target(element, dragged)`: the place under
// the pointer that takes what is dragged, or null. `drop(dragged, place, event)`: what a drop
// there does (event is null for a keyboard drop); it resolves to true when the server did it.
// The place under the pointer is marked with .drop-target while dragging. `places(dragged)`:
// the places the keyboard walks through, in reading order, `columns` to a row (the arrow up
// and down keys jump a row); `where(place, dragged)`: the place as the announcement says it;
// `done`: which sentence says it was done ("moved", or "planned" for an idea).
export function dragAndDrop({ source, target, drop, places, columns = 1, where, done = "moved" }) {
  if (places) keyboardMove({ source, drop, places, columns, where, done });
  let dragged = null;
  let marked = null;
  const mark = (place) => {
    if (marked && marked !== place) marked.classList.remove("drop-target");
    marked = place;
    if (place) place.classList.add("drop-target");
  };

  document.addEventListener("dragstart", (event) => {
    const item = event.target.closest && event.target.closest(source);
    if (!item) return;
    dragged = item;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.id || item.dataset.slotId || "");
    item.classList.add("dragging");
  });
  document.addEventListener("dragend", () => {
    if (dragged) dragged.classList.remove("dragging");
    mark(null);
    dragged = null;
  });
  document.addEventListener("dragover", (event) => {
    const place = dragged && target(event.target, dragged);
    if (!place) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    mark(place);
  });
  document.addEventListener("drop", (event) => {
    const place = dragged && target(event.target, dragged);
    if (!place) return;
    event.preventDefault();
    mark(null);
    drop(dragged, place, event);
  });
}

// Where in an hour cell of the week grid something was dropped, to the nearest quarter hour
// ("HH:MM").
export function dropTime(cell, event) {
  if (!event) return String(cell.dataset.hour).padStart(2, "0") + ":00"; // a keyboard drop
  const rect = cell.getBoundingClientRect();
  const quarter = Math.min(3, Math.max(0, Math.round(((event.clientY - rect.top) / rect.height) * 4)));
  return String(cell.dataset.hour).padStart(2, "0") + ":" + String(quarter * 15).padStart(2, "0");
}

function csrfToken() {
  try {
    return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
  } catch (e) {
    return "";
  }
}

// Sends what a drop asks for, as htmx would, and tells the answer: done or refused, it
// carries its toast (a refused item never left its place, so it needs no undo), or an HTML
// toast of its own (a scheduled post's new time, with Undo). `notDone` is the sentence for
// an answer without either ("The post was not moved"); `unreachable` for no answer at all.
export async function sendDrop(url, body, { notDone, unreachable }) {
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      body,
      headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true" },
      credentials: "same-origin",
    });
  } catch (e) {
    toast(unreachable, "error");
    return false;
  }
  const events = JSON.parse(response.headers.get("HX-Trigger") || "{}");
  const html = response.ok && response.status !== 204 ? (await response.text()).trim() : "";
  if (events.toast) toast(events.toast.message, events.toast.kind);
  else if (html) {
    const box = document.getElementById("toasts");
    box.insertAdjacentHTML("beforeend", html);
    htmx.process(box.lastElementChild);
    expireToasts(box);
  } else if (!response.ok) toast(notDone + " (" + response.status + ").", "error");
  htmx.trigger(document.body, "slots-changed");
  return response.ok;
}

// What a picked-up thing is called in announcements: a card's text, an idea's headline.
export function nameOf(item) {
  const named = item.querySelector(".slot-text") || item.querySelector("h3, a") || item;
  const text = (item.dataset.name || named.textContent).replace(/\s+/g, " ").trim();
  return text.length > 60 ? text.slice(0, 59) + "…" : text;
}

function keyboardMove({ source, drop, places, columns, where, done }) {
  let held = null; // { item, control, places, index }
  const mark = (place) => {
    document.querySelectorAll(".drop-target").forEach((el) => el.classList.remove("drop-target"));
    if (place) {
      place.classList.add("drop-target");
      place.scrollIntoView({ block: "nearest", inline: "nearest" });
    }
  };
  const say = (place) => (where ? where(place, held.item) : place.getAttribute("aria-label") || nameOf(place));
  const letGo = () => {
    if (held) held.item.classList.remove("dragging");
    mark(null);
    held = null;
  };

  document.addEventListener(
    "keydown",
    async (event) => {
      if (held) {
        const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns, ArrowUp: -columns }[event.key];
        if (step !== undefined) {
          event.preventDefault();
          event.stopPropagation();
          const next = Math.min(held.places.length - 1, Math.max(0, held.index + step));
          held.index = next;
          mark(held.places[next]);
          announce(say(held.places[next]));
        } else if (event.key === "Escape") {
          event.preventDefault();
          event.stopPropagation();
          announce(phrase("cancelled", { name: nameOf(held.item) }));
          letGo();
        } else if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          event.stopPropagation();
          const { item, places: all, index } = held;
          const place = all[index];
          const text = phrase(done, { name: nameOf(item), place: say(place) });
          letGo();
          if (await drop(item, place, null)) announce(text);
        } else if (event.key === "Tab") {
          letGo();
        }
        return;
      }
      if (event.key !== "m" && event.key !== "M") return;
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      const control = event.target;
      if (!control.closest || control.closest("input, textarea, select, [contenteditable]")) return;
      const item = control.closest(source);
      if (!item) return;
      const all = places(item).filter((place) => place.offsetParent !== null);
      if (!all.length) return;
      event.preventDefault();
      const home = all.findIndex((place) => place.contains(item));
      held = { item, places: all, index: Math.max(0, home) };
      item.classList.add("dragging");
      mark(all[held.index]);
      announce(phrase("picked", { name: nameOf(item) }));
    },
    true,
  );
}
