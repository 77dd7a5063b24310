// The dialog: a post's page or form opened over the page (hx-target="#dialog-body"), and the
// date picker of the post form in it.

import { cardPlace, focusAgain } from "./swaps.js";

const dialog = () => document.getElementById("dialog");
const dialogBody = () => document.getElementById("dialog-body");
// The card the dialog was opened from: focus goes back to it on close, even to its new copy
// when the calendar was refreshed meanwhile (the browser only knows the old one).
let opener = null;

document.body.addEventListener("htmx:afterSwap", (event) => {
  const body = dialogBody();
  if (body && (event.detail.target === body || body.contains(event.detail.target))) {
    if (!dialog().open) {
      opener = cardPlace();
      dialog().showModal();
    }
    const first = body.querySelector("textarea, select, input:not([type=hidden])");
    if (first && event.detail.target === body) first.focus();
  }
  syncTimeLimits();
});

function closeDialog() {
  const d = dialog();
  if (d && d.open) d.close();
}

dialog().addEventListener("close", () => {
  dialogBody().innerHTML = "";
  focusAgain(opener);
  opener = null;
});
document.body.addEventListener("slots-changed", closeDialog);
document.addEventListener("click", (event) => {
  const closer = event.target.closest("[data-close-dialog]");
  if (closer && dialog().contains(closer)) {
    event.preventDefault();
    closeDialog();
  }
});

// The date picker: today's times already past are greyed out.
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

document.addEventListener("DOMContentLoaded", syncTimeLimits);
