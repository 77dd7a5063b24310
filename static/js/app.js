// Scripe Calendar: the little behaviour htmx does not cover, one module per feature, loaded
// as ES modules with no build step (base.html). No inline scripts anywhere (CSP).
import "./a11y.js";
import "./toasts.js";
import "./dialog.js";
import "./swaps.js";
import "./calendar.js";
import "./queue.js";
import "./ideas.js";
import "./review.js";
import "./live.js";
import "./bulk.js";
import "./sources.js";
import "./tokens.js";
