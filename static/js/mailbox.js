// The mailbox pages work without this file; it only adds the "select all" checkbox.
"use strict";

document.addEventListener("change", (event) => {
  const all = event.target.closest("[data-pick-all]");
  if (!all || !all.form) return;
  for (const box of all.form.querySelectorAll('input[type="checkbox"][name="uid"]')) {
    box.checked = all.checked;
  }
});
