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

  // How big the message is against the cap, once it has files (in the page's language).
  const total = form.querySelector("[data-size-total]");
  const size = (bytes) =>
    new Intl.NumberFormat(document.documentElement.lang || undefined, {
      style: "unit",
      unit: bytes < 2 ** 20 ? "kilobyte" : "megabyte",
      maximumFractionDigits: 1,
    }).format(bytes < 2 ** 20 ? bytes / 2 ** 10 : bytes / 2 ** 20); // as the server counts (1024)
  const show = (used) => {
    if (!total) return;
    total.hidden = files.files.length === 0 && stored().length === 0;
    total.textContent = total.dataset.text.replace("{used}", size(used)).replace("{limit}", size(limit));
  };

  // ``more``: sizes of files about to be added (dropped or pasted; see drafts.js).
  const fits = (more = []) => {
    const used = estimate(Array.isArray(more) ? more : []);
    const ok = used <= limit;
    show(used);
    warning.hidden = ok;
    if (ok) files.removeAttribute("aria-invalid");
    else files.setAttribute("aria-invalid", "true");
    return ok;
  };
  form.fitsWith = fits;
  show(estimate([]));

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
