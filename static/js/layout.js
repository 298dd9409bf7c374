// The layout around the pages (static/css/layout.css): the folder drawer on a phone, the message
// body's frame as tall as its text, and the optional reading pane beside the list on a wide
// screen. Every page works without this file: the drawer is then a link to the folders at the
// bottom of the page, the frame keeps a fixed height, and a message opens on a page of its own.
"use strict";

(() => {
  const root = document.documentElement;
  root.classList.add("js");

  // -- the drawer -------------------------------------------------------------------------------
  const toggle = () => document.querySelector("[data-drawer-toggle]");
  const backdrop = () => document.querySelector("[data-drawer-close]");

  function setDrawer(open) {
    const button = toggle();
    const drawer = document.getElementById("drawer");
    if (!button || !drawer) return;
    root.classList.toggle("drawer-open", open);
    button.setAttribute("aria-expanded", String(open));
    const shade = backdrop();
    if (shade) shade.hidden = !open;
    if (open) {
      const first = drawer.querySelector("a[aria-current], a, button");
      if (first) first.focus();
    }
  }

  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-drawer-toggle]")) {
      event.preventDefault();
      setDrawer(!root.classList.contains("drawer-open"));
    } else if (event.target.closest("[data-drawer-close]")) {
      setDrawer(false);
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && root.classList.contains("drawer-open")) {
      setDrawer(false);
      const button = toggle();
      if (button) button.focus();
    }
  });

  // -- the body frame's height ---------------------------------------------------------------
  // The frame is sandboxed with allow-same-origin and without allow-scripts: this page may read
  // its document's height, and the document itself runs nothing.
  function fit(frame) {
    let doc;
    try {
      doc = frame.contentDocument;
    } catch {
      return;
    }
    // Not yet loaded (the frame's first, empty document): its load event comes later.
    if (!doc || !doc.body || doc.URL === "about:blank" || doc.readyState !== "complete") return;
    frame.style.setProperty("--frame-height", "0px");
    frame.classList.add("sized");
    const height = Math.max(doc.documentElement.scrollHeight, doc.body.scrollHeight);
    frame.style.setProperty("--frame-height", `${Math.ceil(height) + 2}px`);
  }

  function fitAll() {
    for (const frame of document.querySelectorAll("iframe.mail-body")) fit(frame);
  }

  // load does not bubble: listen in the capture phase, for frames added later (the pane) too.
  document.addEventListener(
    "load",
    (event) => {
      if (event.target instanceof HTMLIFrameElement && event.target.matches(".mail-body")) fit(event.target);
    },
    true,
  );
  let resizing = 0;
  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(fitAll, 100);
  });
  document.addEventListener("DOMContentLoaded", fitAll);

  // -- the reading pane ----------------------------------------------------------------------
  const wide = window.matchMedia("(min-width: 1100px)");
  const pane = () => document.getElementById("reading-pane");
  const hint = pane() ? pane().innerHTML : "";

  function paneOn() {
    return root.hasAttribute("data-reading-pane") && wide.matches && pane();
  }

  function markRow(url) {
    for (const row of document.querySelectorAll("#message-list tr.current")) row.classList.remove("current");
    const link = document.querySelector(`#message-list .subject > a[href="${CSS.escape(url)}"]`);
    const row = link && link.closest("tr");
    if (row) {
      row.classList.add("current");
      row.classList.remove("unread"); // opening it marks it read on the server
    }
  }

  let asked = 0; // only the latest message asked for is shown, whatever order the answers come in

  async function openInPane(url, push) {
    const target = pane();
    const mine = ++asked;
    if (push) history.pushState({ pane: url }, "", url);
    let response;
    try {
      response = await fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" });
    } catch {
      location.assign(url); // the network failed: the message's own page says why
      return;
    }
    if (mine !== asked) return;
    if (!response.ok || response.redirected) {
      location.assign(response.url || url); // signed out, gone, a draft: the page itself
      return;
    }
    const html = await response.text();
    if (mine !== asked) return;
    target.innerHTML = html; // our own template, escaped; the mail itself is in the frame
    if (window.htmx) window.htmx.process(target);
    markRow(url);
    const heading = target.querySelector("h1");
    if (heading) {
      heading.tabIndex = -1;
      heading.focus({ preventScroll: true });
    }
  }

  document.addEventListener("click", (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return;
    }
    const link = event.target.closest("#message-list .subject > a:first-child, #reading-pane a[data-pane-link][href]");
    if (!link || !paneOn()) return;
    event.preventDefault();
    openInPane(link.getAttribute("href"), true);
  });

  window.addEventListener("popstate", (event) => {
    if (!paneOn()) return;
    const state = event.state;
    if (state && state.pane) {
      openInPane(state.pane, false);
    } else {
      asked++;
      pane().innerHTML = hint; // back on the list itself
      for (const row of document.querySelectorAll("#message-list tr.current")) row.classList.remove("current");
    }
  });
})();
