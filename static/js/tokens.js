// API tokens (#27): the New token form offers only the scopes the person's role allows in
// the workspace picked. The workspace <select> carries them (`data-scopes`, by workspace
// id); a scope the role does not allow is disabled and unticked, with its hint saying who
// may give it. The server draws the first state and still checks what is sent.

function follow(select) {
  const form = select.form;
  const allowed = JSON.parse(select.dataset.scopes || "{}")[select.value] || [];
  for (const box of form.querySelectorAll('input[name="scopes"]')) {
    const ok = allowed.includes(box.value);
    box.disabled = !ok;
    if (!ok) box.checked = false;
    const hint = document.getElementById(box.dataset.hint);
    if (hint) hint.hidden = ok;
    if (ok) box.removeAttribute("aria-describedby");
    else box.setAttribute("aria-describedby", box.dataset.hint);
  }
}

function followAll() {
  // Also after the back button: the browser may restore another workspace than was drawn.
  document.querySelectorAll(".token-form select[data-scopes]").forEach(follow);
}

document.addEventListener("change", (event) => {
  if (event.target.matches?.(".token-form select[data-scopes]")) follow(event.target);
});
window.addEventListener("pageshow", followAll);
followAll();
