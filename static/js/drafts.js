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
  let failed = false; // an upload failed since Send was pressed: the message waits for the person
  let waiting = null; // the Send button pressed while files were still uploading
  let chain = Promise.resolve(); // saves and uploads one at a time: each names the revision before it
  // This page, to the server: its own saves never conflict with each other, and a late one of
  // them (overtaken by the one sent as the page closed) changes nothing (outbox/drafts.py, Page).
  const page = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
  let seq = 0;
  const stamped = (data) => {
    seq += 1;
    data.append("page", page);
    data.append("seq", String(seq));
    return data;
  };
  // A save answered: JSON with the new revision (a sign-in page after a lost session is not one).
  const answerOf = async (response) => {
    const json = (response.headers.get("Content-Type") || "").startsWith("application/json");
    const data = json ? await response.json().catch(() => ({})) : {};
    return { ok: response.ok && !response.redirected && typeof data.revision === "number", data };
  };

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
    data.delete("forwarded_name");
    return stamped(data);
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
    } else if (response.status >= 400 && response.status < 500 && ![401, 408, 429].includes(response.status)) {
      dirty = true; // refused as it is (too large, say): saved again once it changes
      say(text.textRefused.replace("{reason}", data.error || response.statusText));
    } else {
      dirty = true; // signed out, or the server is away: tried again, less often when signed out
      const reason = data.error || (response.redirected ? text.textSignedOut : response.statusText);
      say(text.textFailed.replace("{reason}", reason));
      schedule(response.status === 401 || response.redirected ? 3 * RETRY_MS : RETRY_MS);
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
      const { ok, data } = await answerOf(response);
      if (ok) settled(data);
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
  // Outside the queue, since the page may be gone before its turn: the server orders this
  // page's saves by their number, so one still in flight cannot undo this one.
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
      stamped(data);
      const request = new XMLHttpRequest();
      request.open("POST", form.dataset.draftUpload);
      request.setRequestHeader("Accept", "application/json");
      request.upload.addEventListener("progress", (event) => {
        progress.value = event.loaded;
      });
      let ok = false;
      request.addEventListener("loadend", () => {
        try {
          let answer = {};
          try {
            answer = JSON.parse(request.responseText);
          } catch {}
          if (request.status === 200 && answer.attachment && typeof answer.revision === "number") {
            item.replaceWith(listItem(answer.attachment));
            settled(answer);
            ok = true;
          } else {
            const reason = answer.error || (request.status === 200 ? text.textSignedOut : text.textOffline);
            item.textContent = `${file.name}: ${reason}`;
            item.className = "error";
            item.setAttribute("role", "alert");
          }
          form.dispatchEvent(new Event("attachments-changed")); // compose.js counts them again
        } finally {
          resolve(ok);
        }
      });
      request.send(data);
    });

  const attach = (chosen) => {
    uploading += chosen.length;
    for (const file of chosen) {
      later(() =>
        upload(file).then((ok) => {
          uploading -= 1;
          failed ||= !ok;
          if (uploading === 0 && waiting) sendWhenUploaded();
        }),
      );
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
        stamped(data);
        const response = await fetch(button.dataset.remove, {
          method: "POST",
          body: data,
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        });
        const { ok, data: answer } = await answerOf(response);
        if (ok) {
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
      // Sent as soon as the files are up (unless one of them fails: then the person decides).
      event.preventDefault();
      waiting = event.submitter || true;
      failed = false;
      say(text.textWaitUploads);
      return;
    }
    closed = true; // Send or Discard: the server closes the draft
    clearTimeout(timer);
  });

  const sendWhenUploaded = () => {
    const submitter = waiting;
    waiting = null;
    if (failed) {
      say(text.textUploadFailed);
      return;
    }
    form.requestSubmit(submitter instanceof HTMLElement ? submitter : undefined);
  };

  // Esc closes the composer; the draft is kept (saved first, if anything changed).
  document.addEventListener("keydown", async (event) => {
    if (event.key !== "Escape" || event.defaultPrevented || closed) return;
    if (document.querySelector("dialog[open]")) return; // Esc closes the dialog, not the composer
    event.preventDefault();
    clearTimeout(timer);
    await later(save);
    if (!dirty) location.assign(form.dataset.draftClose);
  });

  // Where typing starts (the page says): the body, cursor at its start, above any quote; or To.
  if (form.dataset.focus === "body") {
    const editor = form.querySelector("[data-editor-area]");
    const shown = (element) => element && element.getClientRects().length > 0; // laid out, so not hidden
    const target = shown(editor) ? editor : form.querySelector('textarea[name="body"]');
    target?.focus();
    if (target instanceof HTMLTextAreaElement) target.setSelectionRange(0, 0);
  } else if (form.dataset.focus === "to") {
    const to = form.elements.namedItem("to");
    const entry = to && document.getElementById(`${to.id}-entry`); // the chips' typing box
    (entry || to)?.focus();
  }

  ready = true;
})();
