// Refuses, before anything is uploaded, a message that cannot be sent because of its size.
// The form works without this file; the server checks the same limit (outbox/compose.py,
// estimated_size) and then the final message.
"use strict";

(() => {
  const form = document.querySelector("form[data-max-message-bytes]");
  if (!form) return;
  const limit = Number(form.dataset.maxMessageBytes);
  const files = form.querySelector('input[type="file"]');
  const body = form.querySelector("textarea");
  // The rich-text editor's HTML (static/js/editor.js), empty in plain text or without it.
  const html = form.elements.namedItem("body_html");
  const warning = form.querySelector("[data-too-large]");
  const list = form.querySelector("[data-draft-attachments]");
  if (!files || !body || !warning || !limit) return;

  // An attachment in the message: base64, in lines of 76 characters plus CRLF.
  const encodedSize = (size) => {
    const encoded = 4 * Math.ceil(size / 3);
    return encoded + 2 * Math.ceil(encoded / 76);
  };
  // Files still to upload, and those stored with the draft that are ticked to go with it.
  const stored = () =>
    Array.from(form.querySelectorAll("[data-draft-attachments] li[data-size]"))
      .filter((item) => item.querySelector('input[name="attachment"]')?.checked)
      .map((item) => Number(item.dataset.size));
  const estimate = (more) =>
    new TextEncoder().encode(body.value + (html ? html.value : "")).length +
    [...Array.from(files.files, (file) => file.size), ...stored(), ...more].reduce(
      (sum, size) => sum + encodedSize(size),
      0,
    );

  // ``more``: sizes of files about to be added (dropped or pasted; see drafts.js).
  const fits = (more = []) => {
    const ok = estimate(Array.isArray(more) ? more : []) <= limit;
    warning.hidden = ok;
    if (ok) files.removeAttribute("aria-invalid");
    else files.setAttribute("aria-invalid", "true");
    return ok;
  };
  form.fitsWith = fits;

  files.addEventListener("change", () => fits());
  form.addEventListener("attachments-changed", () => fits());
  list?.addEventListener("change", () => fits());
  form.addEventListener("submit", (event) => {
    if (!fits()) {
      event.preventDefault();
      (files.files.length ? files : body).focus();
    }
  });
})();
