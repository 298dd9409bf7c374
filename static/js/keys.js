// Keys of the mail lists and the reading pane (the "?" sheet lists them): a cursor on the list
// (j/k, kept in view, aria-current on its row and the focus on its link), o or Enter to open,
// u back to the list, x to select, and the page's own buttons for the row under the cursor or
// the selected rows: s flag, Shift+I / Shift+U read / unread, # delete, ! junk, v move (a folder
// picker that filters as you type). / goes to the search box; g then i, s or d to the Inbox,
// Sent or Drafts. A key presses a button or follows a link that the page shows, so it does what
// that button does: the same form, the same POST, the same page afterwards. Nothing fires while
// typing in a field, with Ctrl, Alt or Cmd held, or while a dialog is open.
"use strict";

(() => {
  const STORE = "webmail:keys"; // {list: the last list's URL, key: its cursor row's link, index}
  const saved = () => {
    try {
      return JSON.parse(sessionStorage.getItem(STORE) || "{}");
    } catch {
      return {};
    }
  };
  const save = (patch) => {
    try {
      sessionStorage.setItem(STORE, JSON.stringify({ ...saved(), ...patch }));
    } catch {}
  };
  const here = () => location.pathname + location.search;
  const typing = (target) =>
    target instanceof HTMLElement &&
    (target.isContentEditable ||
      target.closest("textarea, select, [contenteditable]") !== null ||
      (target instanceof HTMLInputElement && !["checkbox", "radio", "button", "submit", "reset"].includes(target.type)));

  // -- the list's cursor ---------------------------------------------------------------------
  const rows = () => [...document.querySelectorAll("table.message-table > tbody > tr")];
  const linkOf = (row) => row?.querySelector("td.subject a") || null;
  const keyOf = (row) => linkOf(row)?.getAttribute("href") || "";
  const boxOf = (row) => row?.querySelector('input[type="checkbox"][name="uid"]') || null;
  // The row under the cursor; a list replaced under it (a live refresh) has it back at once.
  const current = () => document.querySelector("table.message-table > tbody > tr.cursor") || recover();
  const onList = () => document.querySelector("#message-list, table.message-table") !== null;

  const place = (row, focus = true) => {
    for (const other of document.querySelectorAll("table.message-table tr.cursor")) {
      other.classList.remove("cursor");
      other.removeAttribute("aria-current");
    }
    if (!row) return;
    row.classList.add("cursor");
    row.setAttribute("aria-current", "true");
    if (focus) linkOf(row)?.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
    save({ list: here(), key: keyOf(row), index: rows().indexOf(row) });
  };

  const step = (by) => {
    const all = rows();
    if (!all.length) return;
    const at = all.indexOf(current());
    if (at === -1) return place(all[0]);
    if (all[at + by]) return place(all[at + by]);
    const pager = document.querySelector(`.pagination a[rel="${by > 0 ? "next" : "prev"}"]`);
    if (pager) {
      save({ landing: by > 0 ? "first" : "last" });
      pager.click();
    }
  };

  // Back on a list (u, an action's reload, a page turned with j/k, a live refresh): the cursor
  // where it was, else on the row that took the place of the one that went.
  const remembered = (state) => {
    const all = rows();
    if (state.landing) return state.landing === "last" ? all.at(-1) : all[0];
    if (state.list !== here() || !state.key) return null;
    return all.find((item) => keyOf(item) === state.key) || all[Math.min(state.index, all.length - 1)] || null;
  };
  const recover = () => {
    const row = remembered(saved());
    if (row) place(row, document.activeElement === document.body || document.activeElement === null);
    return row;
  };
  const restore = () => {
    const state = saved();
    const row = remembered(state);
    save({ list: here(), landing: null, ...(row ? {} : { key: null, index: -1 }) });
    if (row) place(row);
  };

  // -- the page's buttons --------------------------------------------------------------------
  const button = (...values) =>
    values.map((value) => document.querySelector(`main button[name="action"][value="${value}"]`)).find(Boolean);
  const listForm = (form) => form.querySelector('input[type="checkbox"][name="uid"]') !== null;
  const picked = (form) => [...form.querySelectorAll('input[type="checkbox"][name="uid"]:checked')];
  // The rows an action is for: the selected ones, else the one under the cursor.
  const targets = (form) => {
    const chosen = picked(form);
    if (chosen.length) return chosen;
    const box = boxOf(current());
    return box ? [box] : [];
  };
  // The list to go back to from a message: the one it was opened from, else its folder's.
  const ourList = () => {
    const back = document.querySelector("[data-key-nav=list]");
    const state = saved();
    if (!back || !state.list) return back?.getAttribute("href") || "";
    const same = state.list.startsWith(back.getAttribute("href")) || state.key === location.pathname;
    return same ? state.list : back.getAttribute("href");
  };

  const press = (submit) => {
    const form = submit?.form;
    if (!form) return;
    if (listForm(form)) {
      const boxes = targets(form);
      if (!boxes.length) return;
      for (const box of boxes) box.checked = true;
    } else if (form.elements.next && form.elements.next.value !== location.pathname) {
      form.elements.next.value = ourList(); // leaving the message: back to the list it came from
    }
    form.requestSubmit(submit);
  };

  const flag = () => {
    const any = button("flag", "unflag");
    if (!any || !listForm(any.form)) return press(any);
    const all = targets(any.form).map((box) => box.closest("tr"));
    press(button(all.length && all.every((row) => row.classList.contains("flagged")) ? "unflag" : "flag"));
  };

  // -- the folder picker (v) -----------------------------------------------------------------
  const picker = document.getElementById("move-picker");
  const filter = document.getElementById("move-picker-filter");
  const choices = document.getElementById("move-picker-list");
  let shown = [];
  let active = 0;

  const mark = () => {
    [...choices.children].forEach((item, n) => item.setAttribute("aria-selected", String(n === active)));
    const item = choices.children[active];
    if (item) {
      filter.setAttribute("aria-activedescendant", item.id);
      item.scrollIntoView({ block: "nearest" });
    } else filter.removeAttribute("aria-activedescendant");
  };
  const list = () => {
    const words = filter.value.trim().toLocaleLowerCase();
    const options = [...document.getElementById("move-target").options];
    const named = (option) => option.textContent.toLocaleLowerCase();
    shown = options.filter((option) => named(option).includes(words));
    shown.sort((a, b) => Number(!named(a).startsWith(words)) - Number(!named(b).startsWith(words)));
    choices.replaceChildren(
      ...shown.map((option, n) => {
        const item = document.createElement("li");
        item.id = `move-picker-${n}`;
        item.setAttribute("role", "option");
        item.textContent = option.textContent;
        item.addEventListener("click", () => choose(n));
        return item;
      }),
    );
    picker.querySelector("[data-picker-empty]").hidden = shown.length > 0;
    active = 0;
    mark();
  };
  const choose = (n) => {
    const option = shown[n];
    if (!option) return;
    document.getElementById("move-target").value = option.value;
    picker.close();
    press(button("move"));
  };
  const openPicker = () => {
    const move = button("move");
    if (!picker || !move || !document.getElementById("move-target")) return;
    if (listForm(move.form) && !targets(move.form).length) return;
    filter.value = "";
    list();
    picker.showModal();
    filter.focus();
  };
  if (picker) {
    filter.addEventListener("input", list);
    filter.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        active = Math.max(0, Math.min(shown.length - 1, active + (event.key === "ArrowDown" ? 1 : -1)));
        mark();
      } else if (event.key === "Enter") {
        event.preventDefault();
        choose(active);
      }
    });
  }

  // -- the keys ------------------------------------------------------------------------------
  const follow = (selector) => document.querySelector(selector)?.click();
  const go = { i: "inbox", s: "sent", d: "drafts" };
  let leader = 0; // when g was pressed

  const keys = {
    j: () => (onList() ? step(1) : follow("[data-key-nav=next]")),
    k: () => (onList() ? step(-1) : follow("[data-key-nav=prev]")),
    o: () => linkOf(current())?.click(),
    u: () => {
      if (!onList() && document.querySelector("[data-key-nav=list]")) location.assign(ourList());
    },
    x: () => boxOf(current())?.click(),
    s: flag,
    I: () => press(button("read")),
    U: () => press(button("unread")),
    "#": () => press(button("delete")),
    "!": () => press(button("junk", "notjunk")),
    v: openPicker,
    "/": () => {
      const search = document.getElementById("search-q");
      search?.focus();
      search?.select();
    },
  };

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target) || document.querySelector("dialog[open]")) return;
    const key = event.key;
    if (leader && Date.now() - leader < 1500) {
      leader = 0;
      const link = go[key] && document.querySelector(`.folder-list a[data-special-use="${go[key]}"]`);
      const fallback = key === "i" ? document.querySelector(".brand") : null;
      if (link || fallback) {
        event.preventDefault();
        (link || fallback).click();
      }
      return;
    }
    leader = 0;
    if (key === "g" && !event.repeat) {
      leader = Date.now();
      return;
    }
    if (key === "Enter") {
      if (event.target instanceof Element && event.target.closest("a, button, summary, input, [tabindex]")) return;
      if (current()) {
        event.preventDefault();
        linkOf(current()).click();
      }
      return;
    }
    if ((key === "I" || key === "U") && !event.shiftKey) return;
    const action = Object.hasOwn(keys, key) ? keys[key] : null;
    if (!action || (event.repeat && key !== "j" && key !== "k")) return;
    event.preventDefault();
    action();
  });

  // The cursor follows the focus (Tab, a click), and comes back after the list is replaced.
  document.addEventListener("focusin", (event) => {
    const row = event.target instanceof Element ? event.target.closest("table.message-table > tbody > tr") : null;
    if (row && !row.classList.contains("cursor")) place(row, false);
  });
  document.body.addEventListener("htmx:afterSettle", () => {
    if (onList()) current();
  });
  if (onList()) restore();
  else {
    const back = document.querySelector("[data-key-nav=list]")?.getAttribute("href");
    if (back && saved().list?.startsWith(back)) save({ key: location.pathname });
  }
  for (const link of document.querySelectorAll("[data-key-nav=next], [data-key-nav=prev]")) {
    link.addEventListener("click", () => save({ key: link.getAttribute("href") }));
  }
})();
