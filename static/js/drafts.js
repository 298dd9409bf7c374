// Saves the composer as a draft while it is written in: a couple of seconds after typing stops,
// and at once when the page is hidden or closed. Attachments are uploaded once, with progress,
// as soon as they are chosen. The server keeps one row per composer and refuses a save based on
// an older revision than its own (another window saved since); the page then says so and keeps
// what it holds. Saving never moves the focus or the cursor.
// Without this file the form still works: Send and Discard post it, and a refused Send keeps
// what was typed and attached in the draft (outbox/draft_views.py).
"use strict";

(() => {
  const form = document.querySelector("form[data-draft-save]");
  if (!form) return;
  const status = form.querySelector("[data-draft-status]");
  const conflict = form.querySelector("[data-draft-conflict]");
  const revision = form.elements.namedItem("revision");
  const files = form.querySelector('input[type="file"][name="attachments"]');
  const list = form.querySelector("[data-draft-attachments]");
  const text = form.dataset;
  const QUIET_MS = 2000;
  const RETRY_MS = 10000;
  const KEEPALIVE_LIMIT = 60000; // browsers refuse a keepalive request body over 64 KiB

  let ready = false; // nothing is saved before the composer has finished loading
  let closed = false; // sent or discarded: no more saves
  let dirty = false;
  let timer = null;
  let uploading = 0;
  let chain = Promise.resolve(); // saves and uploads one at a time: each names the revision before it

  const say = (words) => {
    if (status) status.textContent = words;
  };
  const later = (fn) => {
    chain = chain.then(fn, fn);
    return chain;
  };
  const schedule = (ms) => {
    clearTimeout(timer);
    timer = setTimeout(() => later(save), ms);
  };

  const fields = () => {
    const data = new FormData(form);
    data.delete("attachments"); // files travel once, to the upload endpoint
    data.delete("attachment");
    return data;
  };

  const settled = (data) => {
    revision.value = data.revision;
    say(text.textSaved.replace("{time}", data.saved_at));
    if (!new URLSearchParams(location.search).has("draft")) history.replaceState(history.state, "", data.url);
  };

  const refused = (response, data) => {
    if (response.status === 409) {
      dirty = true;
      conflict.dataset.revision = data.revision;
      conflict.hidden = false;
      say(text.textConflict);
    } else if (response.status === 410) {
      closed = true;
      say(data.error);
    } else {
      dirty = true;
      say(text.textFailed.replace("{reason}", data.error || response.statusText));
      schedule(RETRY_MS);
    }
  };

  async function save({ keepalive = false } = {}) {
    if (!ready || closed || !dirty || !conflict.hidden) return;
    dirty = false;
    const body = fields();
    say(text.textSaving);
    try {
      const response = await fetch(form.dataset.draftSave, {
        method: "POST",
        body,
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        keepalive: keepalive && new TextEncoder().encode(new URLSearchParams(body).toString()).length < KEEPALIVE_LIMIT,
      });
      const data = await response.json().catch(() => ({}));
      if (response.ok) settled(data);
      else refused(response, data);
    } catch {
      dirty = true;
      say(text.textFailed.replace("{reason}", text.textOffline));
      schedule(RETRY_MS);
    }
  }

  const changed = () => {
    if (!ready || closed) return;
    dirty = true;
    schedule(QUIET_MS);
  };
  form.addEventListener("input", (event) => {
    if (event.target !== files) changed();
  });
  form.addEventListener("change", (event) => {
    if (event.target !== files) changed();
  });

  // Hidden or closed: save now, with a request that outlives the page.
  const leaving = () => {
    if (!dirty || closed) return;
    clearTimeout(timer);
    save({ keepalive: true });
  };
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") leaving();
  });
  window.addEventListener("pagehide", leaving);

  conflict.querySelector("[data-draft-keep]").addEventListener("click", () => {
    revision.value = conflict.dataset.revision;
    conflict.hidden = true;
    dirty = true;
    later(save);
  });

  // -- attachments ------------------------------------------------------------------------

  const listItem = (attachment) => {
    const item = document.createElement("li");
    item.dataset.size = attachment.size;
    const label = document.createElement("label");
    const box = document.createElement("input");
    Object.assign(box, { type: "checkbox", name: "attachment", value: attachment.id, checked: true });
    label.append(box, ` ${attachment.name} (${attachment.size_text})`);
    const remove = document.createElement("button");
    Object.assign(remove, { type: "button", className: "secondary compact", textContent: text.textRemove });
    remove.dataset.remove = attachment.remove_url;
    remove.setAttribute("aria-label", text.textRemoveNamed.replace("{name}", attachment.name));
    item.append(label, " ", remove);
    return item;
  };

  const showList = () => {
    list.closest(".draft-attachments").hidden = list.children.length === 0;
  };

  const upload = (file) =>
    new Promise((resolve) => {
      const item = document.createElement("li");
      const progress = document.createElement("progress");
      progress.max = file.size || 1;
      progress.value = 0;
      item.append(`${file.name} `, progress);
      list.append(item);
      showList();
      const data = new FormData();
      data.append("csrfmiddlewaretoken", form.elements.namedItem("csrfmiddlewaretoken").value);
      data.append("revision", revision.value);
      data.append("file", file);
      const request = new XMLHttpRequest();
      request.open("POST", form.dataset.draftUpload);
      request.setRequestHeader("Accept", "application/json");
      request.upload.addEventListener("progress", (event) => {
        progress.value = event.loaded;
      });
      request.addEventListener("loadend", () => {
        let answer = {};
        try {
          answer = JSON.parse(request.responseText);
        } catch {}
        if (request.status === 200) {
          item.replaceWith(listItem(answer.attachment));
          settled(answer);
        } else {
          item.textContent = `${file.name}: ${answer.error || text.textOffline}`;
          item.className = "error";
          item.setAttribute("role", "alert");
        }
        form.dispatchEvent(new Event("attachments-changed")); // compose.js counts them again
        resolve();
      });
      request.send(data);
    });

  const attach = (chosen) => {
    uploading += chosen.length;
    for (const file of chosen) {
      later(() => upload(file).finally(() => (uploading -= 1)));
    }
  };
  // Dropped or pasted files, outside the editor (which takes pictures in the text itself).
  const outsideEditor = (target) => !(target instanceof Element && target.closest("[data-editor-area]"));
  const filesOf = (transfer) => Array.from(transfer?.files || []);
  const attachIfFits = (chosen) => {
    if (closed || !chosen.length) return;
    if (form.fitsWith && !form.fitsWith(chosen.map((file) => file.size))) return; // compose.js says why
    attach(chosen);
  };

  if (files && list) {
    files.addEventListener("change", () => {
      if (files.getAttribute("aria-invalid") === "true" || closed) return; // too large: compose.js says so
      const chosen = Array.from(files.files);
      files.value = "";
      attach(chosen);
    });
    form.addEventListener("dragover", (event) => {
      if (!event.dataTransfer?.types.includes("Files") || !outsideEditor(event.target)) return;
      event.preventDefault();
      form.classList.add("dropping");
    });
    form.addEventListener("dragleave", (event) => {
      if (event.target === form || !form.contains(event.relatedTarget)) form.classList.remove("dropping");
    });
    form.addEventListener("drop", (event) => {
      form.classList.remove("dropping");
      if (!filesOf(event.dataTransfer).length || !outsideEditor(event.target)) return;
      event.preventDefault();
      attachIfFits(filesOf(event.dataTransfer));
    });
    form.addEventListener("paste", (event) => {
      if (!filesOf(event.clipboardData).length || !outsideEditor(event.target)) return;
      event.preventDefault();
      attachIfFits(filesOf(event.clipboardData));
    });
    list.addEventListener("click", (event) => {
      const button = event.target.closest("[data-remove]");
      if (!button) return;
      const item = button.closest("li");
      later(async () => {
        const data = new FormData();
        data.append("csrfmiddlewaretoken", form.elements.namedItem("csrfmiddlewaretoken").value);
        data.append("revision", revision.value);
        const response = await fetch(button.dataset.remove, { method: "POST", body: data, credentials: "same-origin" });
        const answer = await response.json().catch(() => ({}));
        if (response.ok) {
          item.remove();
          showList();
          settled(answer);
          form.dispatchEvent(new Event("attachments-changed"));
        } else refused(response, answer);
      });
    });
    for (const button of list.querySelectorAll("[data-remove]")) button.hidden = false;
  }

  // -- leaving the composer -----------------------------------------------------------------

  form.addEventListener("submit", (event) => {
    if (event.defaultPrevented) return;
    if (uploading) {
      event.preventDefault();
      say(text.textWaitUploads);
      return;
    }
    closed = true; // Send or Discard: the server closes the draft
    clearTimeout(timer);
  });

  // Esc closes the composer; the draft is kept (saved first, if anything changed).
  document.addEventListener("keydown", async (event) => {
    if (event.key !== "Escape" || event.defaultPrevented || closed) return;
    if (document.querySelector("dialog[open]")) return; // Esc closes the dialog, not the composer
    event.preventDefault();
    clearTimeout(timer);
    await later(save);
    if (!dirty) location.assign(form.dataset.draftClose);
  });

  ready = true;
})();
