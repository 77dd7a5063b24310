// The review screen (#17): a live LinkedIn preview of the draft being edited, review from the
// keyboard, and the next draft opened at its top after each decision.

import { gettext } from "./i18n.js";

// A live preview and character count while the draft is edited.
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
  more.textContent = folded ? gettext("…see more") : gettext("see less");
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

// After a decision (or a move through the queue) the next draft opens at its top with its
// heading focused, and the change is announced; an answer that leaves the same draft open
// (Save draft, a refused field) moves nothing. Without this the page stayed scrolled where
// the Approve button was, under the next post's text.
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
