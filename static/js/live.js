// Live mailbox: a mailbox page hears at once when a sync changes a folder (new mail, a flag or a
// deletion by another client). The folder list's unread counts and the tab's title follow, and
// the open folder's list is fetched again; while rows are selected it is not replaced under the
// pointer, and a button offers it instead. Where the event stream cannot get through (a proxy
// that buffers it), the page asks for the counts every 20 s instead, answered 304 while nothing
// changed. Without this file the pages work as before: reload to see new mail.
"use strict";

(() => {
  const body = document.body;
  if (!body.dataset.liveUrl || !document.querySelector("[data-folder]")) return;
  const POLL_MS = 20000;
  const list = () => document.getElementById("message-list");
  // The folder of the list, or of the message, on the page: its unread count is in the tab's
  // title and on its icon.
  const openFolder = () =>
    Number(list()?.dataset.folder || document.querySelector('.folder-list a[aria-current="page"]')?.dataset.folder || 0);
  const title = document.title.replace(/^\(\d+\) /, "");
  const icon = document.querySelector('link[rel="icon"]');
  const plainIcon = icon?.href;
  let drawn = 0;
  const showBadge = (unread) => {
    if (!icon || unread === drawn) return;
    drawn = unread;
    if (unread <= 0) {
      icon.href = plainIcon;
      icon.type = "image/svg+xml";
      return;
    }
    const image = new Image();
    image.addEventListener("load", () => {
      if (drawn !== unread) return; // a newer count is being drawn
      const canvas = document.createElement("canvas");
      canvas.width = canvas.height = 64;
      const pen = canvas.getContext("2d");
      pen.drawImage(image, 0, 0, 64, 64);
      const text = unread > 99 ? "99+" : String(unread);
      pen.font = `bold ${text.length > 2 ? 22 : 30}px system-ui, sans-serif`;
      const width = Math.max(34, pen.measureText(text).width + 14);
      pen.fillStyle = "#dc2626";
      pen.beginPath();
      pen.roundRect(64 - width, 0, width, 34, 17);
      pen.fill();
      pen.fillStyle = "#fff";
      pen.textAlign = "center";
      pen.textBaseline = "middle";
      pen.fillText(text, 64 - width / 2, 18);
      icon.type = "image/png";
      icon.href = canvas.toDataURL("image/png");
    });
    image.src = plainIcon;
  };
  let notice = null;

  const showCount = (item) => {
    for (const link of document.querySelectorAll(`a[data-folder="${item.folder}"]`)) {
      let badge = link.querySelector(".count");
      if (item.unread > 0) {
        if (!badge) {
          badge = document.createElement("span");
          badge.className = "count";
          link.append(badge);
        }
        badge.textContent = String(item.unread);
      } else badge?.remove();
    }
    if (item.folder === openFolder()) {
      document.title = item.unread > 0 ? `(${item.unread}) ${title}` : title;
      showBadge(item.unread);
    }
  };

  const fetchList = () => {
    notice?.remove();
    notice = null;
    const current = list();
    if (!current || !window.htmx) return;
    window.htmx.ajax("GET", current.dataset.refreshUrl, {
      target: "#message-list",
      swap: "outerHTML",
      headers: { "X-Background-Poll": "1" },
    });
  };

  const listChanged = () => {
    if (!document.querySelector('#message-list input[type="checkbox"]:checked')) {
      fetchList();
      return;
    }
    if (notice) return;
    notice = document.createElement("button");
    notice.type = "button";
    notice.className = "secondary compact live-notice";
    notice.textContent = body.dataset.textNewMail;
    notice.addEventListener("click", fetchList);
    list().before(notice);
  };

  // A desktop notification when the Inbox gets more unread mail, if the person allowed them
  // (asked once, from a button in the folder list, never on its own).
  const unreadBefore = new Map();
  const notify = (item) => {
    const inbox = document.querySelector(`a[data-folder="${item.folder}"][data-inbox]`);
    const before = unreadBefore.get(item.folder);
    unreadBefore.set(item.folder, item.unread);
    if (!inbox || before === undefined || item.unread <= before || !window.Notification) return;
    if (Notification.permission === "granted" && document.visibilityState === "hidden") {
      new Notification(body.dataset.textNoticeTitle, {
        body: body.dataset.textNoticeBody.replace("{count}", String(item.unread)),
        tag: `webmail-inbox-${item.folder}`,
      });
    }
  };
  if (window.Notification && Notification.permission === "default") {
    const folders = document.querySelector(".folder-list");
    const ask = document.createElement("button");
    ask.type = "button";
    ask.className = "link notify-ask";
    ask.textContent = body.dataset.textNotify;
    ask.addEventListener("click", async () => {
      await Notification.requestPermission();
      ask.remove();
    });
    folders?.after(ask);
  }

  const told = (item) => {
    notify(item);
    showCount(item);
    const current = list();
    if (item.folder === openFolder() && current && current.dataset.version !== item.version) {
      current.dataset.version = item.version;
      listChanged();
    }
  };

  // -- the stream, and the poll when it cannot get through ------------------------------------
  let polling = false;
  let tag = "";
  const poll = async () => {
    try {
      const response = await fetch(body.dataset.liveStateUrl, {
        headers: tag ? { "If-None-Match": tag, Accept: "application/json" } : { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (response.status === 200 && (response.headers.get("Content-Type") || "").startsWith("application/json")) {
        tag = response.headers.get("ETag") || "";
        for (const item of await response.json()) told(item);
      }
    } catch {}
    setTimeout(poll, POLL_MS);
  };
  const fallBack = () => {
    if (polling) return;
    polling = true;
    poll();
  };

  const source = new EventSource(body.dataset.liveUrl);
  let heard = false;
  let failures = 0;
  const giveUpAfter = setTimeout(() => {
    if (!heard) {
      source.close();
      fallBack();
    }
  }, 10000);
  source.addEventListener("state", (event) => {
    heard = true;
    failures = 0;
    clearTimeout(giveUpAfter);
    for (const item of JSON.parse(event.data)) told(item);
  });
  source.addEventListener("folder", (event) => told(JSON.parse(event.data)));
  source.addEventListener("error", () => {
    failures += 1; // EventSource connects again by itself; a stream that never works is left
    if (!heard && failures >= 3) {
      source.close();
      fallBack();
    }
  });
  window.addEventListener("pagehide", () => source.close());
})();
