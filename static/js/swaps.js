// What a swap keeps of what the person did: a textarea they resized keeps its size, and a
// card they had focused (by Tab) keeps focus when a refresh or the live poll replaces it.

// htmx does not carry an old element's `style` attribute over to its new copy (base.html:
// the CSP refuses a style attribute), so a resized textarea's size (a form that comes back
// with its errors) is set again through CSSOM, which the CSP allows.
const sizes = new Map();
let focusedCard = null;

document.body.addEventListener("htmx:beforeSwap", (event) => {
  sizes.clear();
  const target = event.detail.target;
  const fields = [target, ...target.querySelectorAll("textarea[id]")].filter((el) => el.matches("textarea[id]"));
  for (const field of fields) {
    if (field.style.height || field.style.width) {
      sizes.set(field.id, { height: field.style.height, width: field.style.width });
    }
  }
  focusedCard = target.contains(document.activeElement) ? cardPlace() : null;
});

document.body.addEventListener("htmx:afterSwap", () => {
  for (const [id, size] of sizes) {
    const field = document.getElementById(id);
    if (!field || field.tagName !== "TEXTAREA") continue;
    field.style.height = size.height;
    field.style.width = size.width;
  }
  sizes.clear();
  focusAgain(focusedCard);
  focusedCard = null;
});

// The controls of a card focus can be on: its link, its box in select mode, a Retry button.
const PARTS = [".slot-open", "[data-bulk-check]", "button"];

// Where focus is when it is on a card: the card's id and which of its controls, which survive
// the card being replaced by a new copy.
export function cardPlace() {
  const active = document.activeElement;
  const card = active && active.closest(".slot-card[id]");
  if (!card) return null;
  return { id: card.id, part: PARTS.find((part) => active.matches(part)) || PARTS[0] };
}

// Focus back on that control of the card's new copy (or its link: select mode gives the new
// copy its box a moment later), unless focus went somewhere else on purpose meanwhile.
export function focusAgain(place) {
  if (!place) return;
  const active = document.activeElement;
  if (active && active !== document.body && active.isConnected) return;
  const card = document.getElementById(place.id);
  const control = card && (card.querySelector(place.part) || card.querySelector(PARTS[0]));
  if (control) control.focus({ preventScroll: true });
}
