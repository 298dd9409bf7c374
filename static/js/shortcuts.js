// Single-key shortcuts: a link or button that says data-shortcut="r" is followed when r is
// pressed anywhere on the page, except while typing (in a field, or with Ctrl, Alt or Cmd held)
// or while a dialog is open.
// The pages work without this file; each shortcut is also a visible link, with aria-keyshortcuts.
"use strict";

(() => {
  const typing = (target) =>
    target instanceof HTMLElement &&
    (target.isContentEditable || target.closest("input, textarea, select, [contenteditable]") !== null);

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    if (typing(event.target) || event.key.length !== 1 || document.querySelector("dialog[open]")) return;
    const target = document.querySelector(`[data-shortcut="${CSS.escape(event.key)}"]`);
    if (!target) return;
    event.preventDefault();
    target.click();
  });

  // "?" (and the Keys button) shows the list of shortcuts; Esc or Close closes it.
  const sheet = document.getElementById("shortcuts");
  document.querySelector("[data-shortcuts-open]")?.addEventListener("click", () => {
    if (sheet && !sheet.open) sheet.showModal();
  });

  // In the composer, Ctrl+Enter (Cmd+Enter on a Mac) sends, from any field.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    const form = event.target instanceof HTMLElement ? event.target.closest("form[data-send-shortcut]") : null;
    if (!form) return;
    event.preventDefault();
    form.requestSubmit();
  });
})();
