// Moving mail by dragging rows of the list onto a folder of the sidebar: the selected rows when
// the dragged one is selected, else that row alone. The move is the list's own Move action
// (the bulk form's URL, its CSRF token); the page then reloads to show the result, as the
// Move button does. Without this file the Move button and its folder list do the same.
"use strict";

(() => {
  const form = document.getElementById("bulk-form");
  if (!form) return;
  // getAttribute: the form's "action" property is its buttons named "action".
  const here = new URL(form.getAttribute("action"), location.href).pathname;
  const TYPE = "application/x-webmail-uids";
  let dragged = null;

  const element = (node) => (node instanceof Element ? node : node?.parentElement || null);
  const rowOf = (node) => element(node)?.closest("#message-list tbody tr");
  const targetOf = (node) => {
    const link = element(node)?.closest(".folder-list a[data-folder]");
    return link && !link.matches('[aria-current="page"]') ? link : null;
  };

  // Rows become draggable as the pointer presses on them (the list is replaced by live updates).
  document.addEventListener("pointerdown", (event) => {
    const row = rowOf(event.target);
    if (row) row.draggable = true;
  });

  document.addEventListener("dragstart", (event) => {
    const row = rowOf(event.target);
    const box = row && row.querySelector('input[name="uid"]');
    if (!box) return;
    const picked = box.checked ? [...form.querySelectorAll('input[name="uid"]:checked')] : [box];
    dragged = picked.map((item) => item.value);
    event.dataTransfer.setData(TYPE, dragged.join(","));
    event.dataTransfer.effectAllowed = "move";
    row.classList.add("dragging");
  });
  document.addEventListener("dragend", () => {
    dragged = null;
    for (const item of document.querySelectorAll(".dragging, .drop-target")) item.classList.remove("dragging", "drop-target");
  });

  document.addEventListener("dragover", (event) => {
    const link = dragged && targetOf(event.target);
    if (!link) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    link.classList.add("drop-target");
  });
  document.addEventListener("dragleave", (event) => {
    const link = targetOf(event.target);
    if (link && !link.contains(event.relatedTarget)) link.classList.remove("drop-target");
  });

  document.addEventListener("drop", async (event) => {
    const link = dragged && targetOf(event.target);
    if (!link) return;
    event.preventDefault();
    const data = new FormData();
    data.append("csrfmiddlewaretoken", form.querySelector('input[name="csrfmiddlewaretoken"]').value);
    data.append("action", "move");
    data.append("target", link.dataset.folder);
    data.append("next", location.pathname + location.search);
    for (const uid of dragged) data.append("uid", uid);
    dragged = null;
    try {
      // The answer is a redirect back here: not followed, so that its message shows on the reload.
      await fetch(here, { method: "POST", body: data, credentials: "same-origin", redirect: "manual" });
    } finally {
      location.reload();
    }
  });
})();
