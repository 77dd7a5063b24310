// Fields: a textarea the person resized keeps its size when htmx swaps in its new copy (a
// form that comes back with its errors). htmx does not carry the old `style` attribute over
// (base.html: the CSP refuses a style attribute), so the size is set again through CSSOM,
// which the CSP allows.
const sizes = new Map();

document.body.addEventListener("htmx:beforeSwap", (event) => {
  sizes.clear();
  const target = event.detail.target;
  const fields = [target, ...target.querySelectorAll("textarea[id]")].filter((el) => el.matches("textarea[id]"));
  for (const field of fields) {
    if (field.style.height || field.style.width) {
      sizes.set(field.id, { height: field.style.height, width: field.style.width });
    }
  }
});

document.body.addEventListener("htmx:afterSwap", () => {
  for (const [id, size] of sizes) {
    const field = document.getElementById(id);
    if (!field || field.tagName !== "TEXTAREA") continue;
    field.style.height = size.height;
    field.style.width = size.width;
  }
  sizes.clear();
});
