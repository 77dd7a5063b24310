// The calendar: a click on a day plans a post on it; a card dragged to another day keeps its
// time, dropped on an hour of the week's grid it takes that hour (#15); or with the keyboard
// (M, the arrow keys, Enter: drag.js).
import { gettext } from "./i18n.js";
import { dragAndDrop, dropTime, sendDrop } from "./drag.js";

// Clicking the empty part of a day of the month, or of an hour of the week, plans a post
// there (its "+" link, the keyboard's way in, does the same). Past ones have no "+".
document.addEventListener("click", (event) => {
  const place = event.target.closest(".calendar .day[data-date], .calendar .hour-cell[data-date]");
  if (!place || event.target.closest("a, button, input, .slot-card")) return;
  const add = place.querySelector(".day-add, .hour-add");
  if (add) add.click();
});

dragAndDrop({
  source: "[data-move-url]",
  target: (element) => element.closest(".day[data-date], .hour-cell[data-date]"),
  drop: (card, day, event) => {
    const body = new URLSearchParams({ date: day.dataset.date });
    if (day.dataset.hour !== undefined) body.set("time", dropTime(day, event));
    else if (card.closest(".day") === day) return false;
    return sendDrop(card.dataset.moveUrl, body, {
      notDone: gettext("The post was not moved"),
      unreachable: gettext("The server cannot be reached; the post was not moved."),
    });
  },
  // The keyboard walks the days of the month, or the hours of the week (left and right: a
  // day; up and down: a week, or an hour), which are laid out seven to a row.
  places: () => [...document.querySelectorAll(".calendar .day[data-date]:not(.day-past), .calendar .hour-cell[data-date]:not(.day-past)")],
  columns: 7,
  // A day keeps the card's time; an hour of the week gives it that hour.
  where: (place, card) => {
    const label = place.getAttribute("aria-label");
    if (place.dataset.hour !== undefined) return label;
    const time = card.querySelector(".slot-time");
    return time ? label + ", " + time.textContent.trim() : label;
  },
});
