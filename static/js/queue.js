// The queue page (#15): a queued post dragged onto another swaps their schedule times. The
// server swaps them in one transaction (conditional updates) and the list refreshes itself.
// With the keyboard: M on a queued post, the arrow keys to another, Enter (drag.js).
import { gettext } from "./i18n.js";
import { dragAndDrop, nameOf, sendDrop } from "./drag.js";

const POST = "[data-slot-id][draggable]";

dragAndDrop({
  source: "[data-reorder-url] " + POST,
  target: (element, dragged) => {
    const row = element.closest(".queue-time");
    const other = row && row.querySelector(POST);
    return other && other !== dragged ? row : null;
  },
  drop: (dragged, row) => {
    const list = dragged.closest("[data-reorder-url]");
    const ids = [...list.querySelectorAll(POST)].map((p) => p.dataset.slotId);
    const from = ids.indexOf(dragged.dataset.slotId);
    const to = ids.indexOf(row.querySelector(POST).dataset.slotId);
    [ids[from], ids[to]] = [ids[to], ids[from]];
    const body = new URLSearchParams();
    ids.forEach((id) => body.append("order", id));
    return sendDrop(list.dataset.reorderUrl, body, {
      notDone: gettext("The queue was not changed"),
      unreachable: gettext("The server cannot be reached; the queue was not changed."),
    });
  },
  // The keyboard walks the other queued posts of the list (up and down), the post's own
  // row first; Enter swaps the two.
  places: (dragged) =>
    [...dragged.closest("[data-reorder-url]").querySelectorAll(".queue-time")].filter((row) =>
      row.querySelector(POST),
    ),
  where: (row) => row.querySelector(".queue-when").textContent.trim() + ", " + nameOf(row.querySelector(POST)),
});
