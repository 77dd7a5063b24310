// Bulk actions (#16): a selection of posts, and the bar that acts on it.
// Tick rows (or, in the calendar's select mode, cards), shift-click for a range, or "select
// all matching the filter", which the server resolves itself (scope=filter): the ids on the
// page are not what it acts on then. The selection is kept here, so paging and live updates
// that replace rows keep it; the bar's request sends it as `slot` ids.
import { gettext, interpolate } from "./i18n.js";
import { toast } from "./toasts.js";

const selected = new Set();
let allMatching = 0; // > 0: every slot the filter matches (that many), not the ticked ones
let last = null; // the last box ticked by hand, where a shift-click range starts

const bar = () => document.querySelector("[data-bulk-bar]");
const boxes = () => Array.from(document.querySelectorAll("[data-bulk-check]"));
const selecting = () => document.body.classList.contains("bulk-selecting");

function show() {
  const form = bar();
  const count = allMatching || selected.size;
  boxes().forEach((box) => {
    box.checked = allMatching > 0 || selected.has(box.value);
    box.closest(".slot-card")?.classList.toggle("bulk-selected", box.checked);
  });
  const page = document.querySelector("[data-bulk-page]");
  if (page) page.checked = boxes().length > 0 && boxes().every((box) => box.checked);
  document.querySelectorAll("[data-bulk-select-mode]").forEach((b) => b.setAttribute("aria-pressed", String(selecting())));
  if (!form) return;
  form.classList.toggle("bulk-active", count > 0);
  form.querySelector("[data-bulk-scope]").value = allMatching ? "filter" : "ids";
  form.querySelector("[data-bulk-count]").textContent = allMatching
    ? interpolate(gettext("All %(count)s posts matching the filter"), { count: allMatching })
    : count ? interpolate(gettext("%(count)s selected"), { count }) : gettext("Tick posts");
  form.querySelector("[data-bulk-hint]").hidden = count > 0;
  form.querySelector("[data-bulk-clear]").hidden = count === 0;
}

function clear() {
  selected.clear();
  allMatching = 0;
  last = null;
  show();
}

function pick(box, on, range) {
  if (allMatching) {
    // Unticking one of "all matching" leaves the ticked ones on this page.
    boxes().forEach((b) => selected.add(b.value));
    allMatching = 0;
  }
  const list = boxes();
  const from = range && last ? list.findIndex((b) => b.value === last) : -1;
  const to = list.indexOf(box);
  const span = from >= 0 ? list.slice(Math.min(from, to), Math.max(from, to) + 1) : [box];
  span.forEach((b) => (on ? selected.add(b.value) : selected.delete(b.value)));
  last = box.value;
  show();
}

document.addEventListener("click", (event) => {
  const box = event.target.closest("[data-bulk-check]");
  if (box) { pick(box, box.checked, event.shiftKey); return; }
  if (event.target.closest("[data-bulk-page]")) {
    const on = event.target.checked;
    if (!on) allMatching = 0;
    boxes().forEach((b) => (on ? selected.add(b.value) : selected.delete(b.value)));
    show();
    return;
  }
  const all = event.target.closest("[data-bulk-all]");
  if (all) { allMatching = Number(all.dataset.bulkAll) || 0; show(); return; }
  if (event.target.closest("[data-bulk-clear]")) { clear(); return; }
  const mode = event.target.closest("[data-bulk-select-mode]");
  if (mode) {
    const on = !selecting();
    document.body.classList.toggle("bulk-selecting", on);
    const dock = document.getElementById("bulk-dock");
    if (on && dock && !dock.querySelector("[data-bulk-bar]")) {
      htmx.ajax("GET", dock.dataset.bulkBarUrl, { target: dock, swap: "innerHTML" });
    }
    if (!on) clear();
    decorate();
    show();
  }
});

// Select mode on the calendar: a card is ticked by clicking it anywhere (it does not open).
document.addEventListener("click", (event) => {
  if (!selecting()) return;
  const card = event.target.closest("#calendar .slot-card");
  if (!card || event.target.closest("[data-bulk-check]")) return;
  event.preventDefault();
  event.stopPropagation();
  const box = card.querySelector("[data-bulk-check]");
  if (box) { box.checked = !box.checked; pick(box, box.checked, event.shiftKey); }
}, true);

// Cards get a box while selecting (cards are rendered once and shared, so not in markup).
function decorate() {
  document.querySelectorAll("#calendar .slot-card[data-slot]").forEach((card) => {
    const box = card.querySelector("[data-bulk-check]");
    if (!selecting()) { box?.remove(); return; }
    if (box) return;
    const input = document.createElement("input");
    input.type = "checkbox";
    input.name = "slot";
    input.value = card.dataset.slot;
    input.className = "bulk-card-check";
    input.setAttribute("form", "bulk-form");
    input.setAttribute("data-bulk-check", "");
    // The title's first line names the post; a second says why it cannot be moved.
    const name = card.querySelector(".slot-open")?.title.split("\n")[0];
    input.setAttribute(
      "aria-label",
      name ? interpolate(gettext("Select %(name)s"), { name }) : gettext("Select this post"),
    );
    card.prepend(input);
  });
}

// A new filter is a new question: the selection made for the old one goes.
document.body.addEventListener("htmx:beforeRequest", (event) => {
  if (event.detail.elt.closest && event.detail.elt.closest(".filters")) clear();
});

// Rows and cards replaced (paging, a refresh, the live poll) show the selection again.
let pending = false;
new MutationObserver(() => {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => { pending = false; decorate(); show(); });
}).observe(document.body, { childList: true, subtree: true });

document.body.addEventListener("htmx:configRequest", (event) => {
  if (event.detail.elt.id !== "bulk-form") return;
  const data = event.detail.formData;
  data.delete("slot");
  if (!allMatching) selected.forEach((id) => data.append("slot", id));
  if (!allMatching && selected.size === 0) {
    event.preventDefault();
    toast(gettext("Tick the posts to act on first."), "error");
  }
});

// An action, an Undo or "Go on" answers with its run, in the panel by the bar. The person
// may have scrolled far from it (on All posts it sits above the list, and the bar stays
// stuck to the top of the window), so the run is brought into view just under the bar, and
// focus moves to its heading, which a screen reader reads with the run's summary; Tab goes
// on to its Undo.
function revealRun() {
  const heading = document.querySelector("#bulk-panel .bulk-title");
  if (!heading) return;
  // In the calendar's dock, stuck to the bottom of the window, the run is in view already:
  // focus scrolls the dock itself if it is too tall for all of it.
  if (heading.closest("#bulk-dock")) { heading.focus(); return; }
  const stuck = stuckBar();
  const covered = stuck ? stuck.getBoundingClientRect().bottom : 0;
  const top = heading.closest(".bulk-run").getBoundingClientRect().top;
  if (top < covered || heading.getBoundingClientRect().bottom > window.innerHeight) {
    const smooth = !window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    window.scrollBy({ top: top - covered - 8, behavior: smooth ? "smooth" : "auto" });
  }
  heading.focus({ preventScroll: true });
}

function stuckBar() {
  const form = bar();
  if (!form || !form.classList.contains("bulk-active")) return null;
  const style = getComputedStyle(form);
  return style.position === "sticky" && style.top !== "auto" ? form : null;
}

document.body.addEventListener("htmx:afterSwap", (event) => {
  const { elt, requestConfig } = event.detail;
  if (requestConfig?.verb === "post" && elt.closest && elt.closest("#bulk-panel")) revealRun();
});

// Close: the results go (a run still working goes on, and the list still refreshes when
// the live poll sees what it did); focus goes back to the bar.
document.addEventListener("click", (event) => {
  if (!event.target.closest("[data-bulk-close]")) return;
  const panel = document.getElementById("bulk-panel");
  if (panel) panel.replaceChildren();
  bar()?.querySelector("button:not([hidden])")?.focus();
});

// A finished delete leaves nothing to act on again; other actions keep the selection.
document.body.addEventListener("bulk-done", (event) => {
  if (event.detail && event.detail.action === "delete") clear();
});

document.addEventListener("DOMContentLoaded", () => { decorate(); show(); });
