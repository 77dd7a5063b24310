// Sources (#26): the upload form refuses a file Scripe would refuse (its type, its size)
// before a byte is sent, with the sentence next to the field (the server checks the same),
// and shows how much of the upload has been sent (htmx's htmx:xhr:progress). The knowledge
// base's form is one too (`data-source-upload`), with its own words in data attributes:
// `data-type-refusal`, `data-kind-words` and `data-size-advice`.
import { gettext, interpolate } from "./i18n.js";

const MB = 1024 * 1024;
const KIND_WORDS = { audio: gettext("recordings"), video: gettext("videos"), text: gettext("text files") };

function problemWith(form, file) {
  if (!file) return "";
  const caps = JSON.parse(form.dataset.caps || "{}");
  const dot = file.name.lastIndexOf(".");
  const ending = dot >= 0 ? file.name.slice(dot).toLowerCase() : "";
  const cap = caps[ending];
  if (!cap) {
    return form.dataset.typeRefusal || gettext("Scripe takes audio or video (MP3, M4A, WAV, MP4, MOV, WebM), PDF or Office documents, or plain text (.txt). Convert the file to one of those.");
  }
  if (file.size > cap) {
    const kind = ending === ".txt" ? "text" : [".mp4", ".mov", ".webm"].includes(ending) ? "video" : [".mp3", ".m4a", ".wav", ".ogg", ".aac"].includes(ending) ? "audio" : "";
    const words = form.dataset.kindWords || KIND_WORDS[kind] || gettext("documents");
    const advice = form.dataset.sizeAdvice || gettext("Shorten or compress it, or split it in parts.");
    const size = Math.round(file.size / MB).toLocaleString(document.documentElement.lang || "en");
    return interpolate(gettext("This file is %(size)s MB; Scripe takes %(words)s of at most %(cap)s MB. %(advice)s"), { size, words, cap: Math.round(cap / MB), advice });
  }
  if (file.size === 0) return gettext("This file is empty.");
  return "";
}

function check(form) {
  const input = form.querySelector('input[type="file"]');
  const error = form.querySelector("[data-file-error]");
  const problem = problemWith(form, input && input.files[0]);
  if (error) {
    error.textContent = problem;
    error.hidden = !problem;
    error.closest(".field")?.classList.toggle("field-invalid", Boolean(problem));
  }
  return !problem;
}

function uploadForm(target) {
  return target instanceof Element ? target.closest("form[data-source-upload]") : null;
}

document.addEventListener("change", (event) => {
  const form = uploadForm(event.target);
  if (form && event.target.type === "file") check(form);
});

document.addEventListener("htmx:beforeRequest", (event) => {
  const form = uploadForm(event.detail.elt);
  if (!form) return;
  if (!check(form)) {
    event.preventDefault();
    return;
  }
  // Progress only for a file (the knowledge form also sends texts and links).
  if (!form.querySelector('input[type="file"]')?.files.length) return;
  const progress = form.querySelector("[data-upload-progress]");
  const status = form.querySelector("[data-upload-status]");
  if (progress) {
    progress.value = 0;
    progress.hidden = false;
  }
  if (status) {
    status.textContent = gettext("Uploading…");
    status.hidden = false;
  }
  form.querySelector('button[type="submit"]')?.setAttribute("disabled", "");
});

document.addEventListener("htmx:xhr:progress", (event) => {
  const form = uploadForm(event.detail.elt || event.target);
  if (!form || !event.detail.lengthComputable) return;
  const percent = Math.round((100 * event.detail.loaded) / event.detail.total);
  const progress = form.querySelector("[data-upload-progress]");
  const status = form.querySelector("[data-upload-status]");
  if (progress) progress.value = percent;
  if (status) {
    status.textContent = percent >= 100
      ? gettext("Received; saving…")
      : interpolate(gettext("Uploading: %(percent)s"), { percent: `${percent}%` });
  }
});

// Without htmx (or before it loaded), the plain form is checked the same way.
document.addEventListener("submit", (event) => {
  const form = uploadForm(event.target);
  if (form && !check(form)) event.preventDefault();
});
