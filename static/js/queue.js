// The queue page (#15): a queued post dragged onto another swaps their schedule times. The
// server swaps them in one transaction (conditional updates) and the list refreshes itself.
import { gettext } from "./i18n.js";
import { dragAndDrop, sendDrop } from "./drag.js";

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
    sendDrop(list.dataset.reorderUrl, body, {
      notDone: gettext("The queue was not changed"),
      unreachable: gettext("The server cannot be reached; the queue was not changed."),
    });
  },
});
