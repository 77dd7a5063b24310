// Accessibility (#30): one polite live region that says what the keyboard and the live
// updates did, focus that survives an htmx swap, and the date picker as one Tab stop whose
// days are walked with the arrow keys.

// The sentences live on the live region (base.html), where the template translates them;
// `{name}`-style blanks are filled in here.
export function phrase(key, values = {}) {
  const region = document.getElementById("announcer");
  const text = (region && region.dataset[key]) || "";
  return text.replace(/\{(\w+)\}/g, (blank, name) => (name in values ? values[name] : blank));
}

// Says `text` once through the live region. Emptied first, so the same sentence twice (two
// moves to the same day) is said twice.
export function announce(text) {
  const region = document.getElementById("announcer");
  if (!region || !text) return;
  region.textContent = "";
  requestAnimationFrame(() => {
    region.textContent = text;
  });
}

// Focus after a swap: htmx replaces what had focus (a form sent, a list refreshed), and the
// browser then puts focus on <body>, sending a keyboard user back to the top of the page.
// Focus goes back to the element with the same id in the new content, or else to the swapped
// region itself. (Cards have their own, finer rule in swaps.js; the dialog focuses its
// first field in dialog.js.)
let lost = null;
document.body.addEventListener("htmx:beforeSwap", (event) => {
  const target = event.detail.target;
  const active = document.activeElement;
  lost = target && active && active !== document.body && target.contains(active)
    ? { id: active.id, target: target.id }
    : null;
});
document.body.addEventListener("htmx:afterSettle", () => {
  const place = lost;
  lost = null;
  if (!place) return;
  const active = document.activeElement;
  if (active && active !== document.body && active.isConnected) return;
  const again = (place.id && document.getElementById(place.id)) || (place.target && document.getElementById(place.target));
  if (!again) return;
  if (!again.matches("a[href], button, input, select, textarea, [tabindex]")) again.setAttribute("tabindex", "-1");
  again.focus({ preventScroll: true });
});

// The date picker: one Tab stop (the chosen day, or today, or the first day that can be
// picked); the arrow keys move a day or a week, Home and End to the ends of the month shown.
function rove(grid) {
  const days = [...grid.querySelectorAll("[data-pick-date]")];
  const open = days.filter((day) => !day.disabled);
  const current =
    open.find((day) => day.getAttribute("aria-pressed") === "true") ||
    open.find((day) => day.classList.contains("picker-today")) ||
    open[0];
  days.forEach((day) => day.setAttribute("tabindex", day === current ? "0" : "-1"));
}
function roveAll(root) {
  root.querySelectorAll("[data-roving]").forEach(rove);
}
document.addEventListener("DOMContentLoaded", () => roveAll(document));
document.body.addEventListener("htmx:afterSwap", () => roveAll(document));
document.addEventListener("click", (event) => {
  const grid = event.target.closest && event.target.closest("[data-roving]");
  if (grid) setTimeout(() => rove(grid));
});
document.addEventListener("keydown", (event) => {
  const day = event.target.closest && event.target.closest("[data-roving] [data-pick-date]");
  if (!day) return;
  const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: 7, ArrowUp: -7 }[event.key];
  const days = [...day.closest("[data-roving]").querySelectorAll("[data-pick-date]")];
  let index = days.indexOf(day);
  if (step !== undefined) index += step;
  else if (event.key === "Home") index = 0;
  else if (event.key === "End") index = days.length - 1;
  else return;
  event.preventDefault();
  index = Math.min(days.length - 1, Math.max(0, index));
  // Days already past cannot be picked: skip forward to the first that can.
  while (index < days.length - 1 && days[index].disabled) index += 1;
  const next = days[index];
  if (next.disabled) return;
  days.forEach((other) => other.setAttribute("tabindex", other === next ? "0" : "-1"));
  next.focus();
});

// The calendar's "+" links (one a day of the month, one an hour of the week: a hundred Tab
// stops in a week) are one Tab stop: today's, or the first one. The arrow keys move between
// them, seven to a row (left and right: a day; up and down: a week, or an hour).
const ROVING_GRIDS = "[data-roving-cells]";
function roveAdds(grid) {
  const adds = [...grid.querySelectorAll(grid.dataset.rovingItem)];
  const current = adds.find((add) => add.closest("[aria-current='date']")) || adds[0];
  adds.forEach((add) => add.setAttribute("tabindex", add === current ? "0" : "-1"));
}
function roveAllAdds() {
  document.querySelectorAll(ROVING_GRIDS).forEach(roveAdds);
}
document.addEventListener("DOMContentLoaded", roveAllAdds);
document.body.addEventListener("htmx:afterSettle", roveAllAdds);
document.addEventListener("keydown", (event) => {
  const grid = event.target.closest && event.target.closest(ROVING_GRIDS);
  if (!grid || !event.target.matches(grid.dataset.rovingItem)) return;
  const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: 7, ArrowUp: -7 }[event.key];
  if (step === undefined || event.altKey || event.ctrlKey || event.metaKey) return;
  event.preventDefault();
  const cells = [...grid.querySelectorAll(grid.dataset.rovingCells)];
  let index = cells.indexOf(event.target.closest(grid.dataset.rovingCells));
  // Past days and hours have no "+": go on in the same direction to the next that has one.
  for (index += step; index >= 0 && index < cells.length; index += step) {
    const add = cells[index].querySelector(grid.dataset.rovingItem);
    if (add) {
      grid.querySelectorAll(grid.dataset.rovingItem).forEach((other) => other.setAttribute("tabindex", "-1"));
      add.setAttribute("tabindex", "0");
      add.focus();
      return;
    }
  }
});

// A form sent back with errors (a whole page, e.g. an invitation with a bad address) left
// focus on <body>: a keyboard or screen-reader user had to find the field to fix. Focus goes
// to the first field that has an error, unless something else already took focus.
const firstInvalid = document.querySelector(
  "main :is(.field-invalid, .field:has(> .field-error)) :is(input:not([type=hidden]), select, textarea)",
);
if (firstInvalid && (document.activeElement === document.body || !document.activeElement)) {
  firstInvalid.focus();
}
