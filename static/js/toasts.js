// Toasts: short sentences in the corner. A view's answer asks for one with the `toast` event
// (HX-Trigger); an answer htmx does not swap (an error, no connection) still gets a sentence.
import { gettext, interpolate } from "./i18n.js";

export function toast(message, kind) {
  const box = document.getElementById("toasts");
  const item = document.createElement("div");
  item.className = "toast" + (kind ? " toast-" + kind : "");
  item.setAttribute("role", kind === "error" ? "alert" : "status");
  item.textContent = message;
  box.appendChild(item);
  setTimeout(() => item.remove(), 5000);
}

// Toasts rendered by the server (an Undo) say how long they stay.
export function expireToasts(root) {
  root.querySelectorAll(".toast[data-expires]").forEach((item) => {
    const seconds = parseInt(item.dataset.expires, 10) || 10;
    item.removeAttribute("data-expires");
    setTimeout(() => item.remove(), seconds * 1000);
  });
}

document.body.addEventListener("toast", (event) => toast(event.detail.message, event.detail.kind));
document.body.addEventListener("htmx:afterSwap", () => expireToasts(document));
document.addEventListener("DOMContentLoaded", () => expireToasts(document));

// htmx does not swap error responses. A refusal carries its own toast event (HX-Trigger);
// anything else still gets a sentence instead of nothing.
document.body.addEventListener("htmx:responseError", (event) => {
  const xhr = event.detail.xhr;
  if ((xhr.getResponseHeader("HX-Trigger") || "").includes('"toast"')) return;
  const text = xhr.getResponseHeader("Content-Type")?.startsWith("text/plain") ? xhr.responseText : "";
  toast(text || interpolate(gettext("Something went wrong (%(status)s). Try again."), { status: xhr.status }), "error");
});
document.body.addEventListener("htmx:sendError", () => toast(gettext("The server cannot be reached. Check your connection."), "error"));

// A form in a section of a long page (settings: #sign-in, #sessions, #api-tokens) redirects to
// that section, which scrolls the page's messages at the top out of sight: they float at the
// top of the screen for a few seconds, where the person is looking, then go back in place.
window.addEventListener("load", () => {
  requestAnimationFrame(() => {
    const banner = document.querySelector(".messages");
    if (!banner || !location.hash || banner.getBoundingClientRect().bottom > 0) return;
    banner.classList.add("messages-floating");
    setTimeout(() => banner.classList.remove("messages-floating"), 8000);
  });
});
