// Drag and drop, once for every page that has it: the calendar (a card onto a day or an hour,
// calendar.js), the queue (a queued post onto another's time, queue.js) and the ideas panel
// (an idea onto a day, an hour or a queue, ideas.js).
import { expireToasts, toast } from "./toasts.js";

// `source`: a selector for what can be picked up. `target(element, dragged)`: the place under
// the pointer that takes what is dragged, or null. `drop(dragged, place, event)`: what a drop
// there does. The place under the pointer is marked with .drop-target while dragging.
export function dragAndDrop({ source, target, drop }) {
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
    return;
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
}
