// The ideas panel (#26): an idea dragged onto a day of the month, an hour of the week or a
// queue page's drop zone becomes a planned post, through the same rules as the post form.
// The server answers with a toast; the calendar, queue and panel refresh on slots-changed.
import { gettext } from "./i18n.js";
import { dragAndDrop, dropTime, sendDrop } from "./drag.js";

const answers = {
  notDone: gettext("No post was planned from the idea"),
  unreachable: gettext("The server cannot be reached; no post was planned."),
};

dragAndDrop({
  source: "[data-idea-plan-url]",
  target: (element) =>
    element.closest(".calendar .day[data-date], .calendar .hour-cell[data-date], [data-idea-queue-drop]"),
  drop: (idea, place, event) => {
    if (place.hasAttribute("data-idea-queue-drop")) {
      return sendDrop(idea.dataset.ideaQueueUrl, new URLSearchParams({ project: place.dataset.project }), answers);
    }
    const body = new URLSearchParams({ date: place.dataset.date });
    if (place.dataset.hour !== undefined) body.set("time", dropTime(place, event));
    return sendDrop(idea.dataset.ideaPlanUrl, body, answers);
  },
  // With the keyboard (M on the idea, drag.js): the days or hours of the calendar, seven to
  // a row, or the queue page's drop zone.
  places: () => [
    ...document.querySelectorAll(
      ".calendar .day[data-date]:not(.day-past), .calendar .hour-cell[data-date]:not(.day-past), [data-idea-queue-drop]",
    ),
  ],
  columns: 7,
  where: (place) => place.dataset.name || place.getAttribute("aria-label"),
  done: "planned",
});
