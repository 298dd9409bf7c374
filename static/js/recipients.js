// Recipient fields as chips: each address typed or pasted becomes a chip, checked as it comes
// (an invalid one stays, marked, with its reason), with suggestions from the user's own
// correspondents. The form works without this file: the field it enhances keeps its name and
// holds the comma-separated list the server parses and checks again (outbox/compose.py,
// parse_addresses). Ctrl/Cmd+Shift+C and Ctrl/Cmd+Shift+B go to Cc and Bcc.
"use strict";

(() => {
  const form = document.querySelector("form[data-recipients-url]");
  if (!form) return;
  const url = form.dataset.recipientsUrl;
  const gettext = window.gettext || ((text) => text);
  const interpolate = window.interpolate || ((text, values) => text.replace(/%\((\w+)\)s/g, (_m, key) => values[key]));
  const fields = ["to", "cc", "bcc"].map((name) => form.elements.namedItem(name)).filter((input) => input instanceof HTMLInputElement);
  let counter = 0;

  // -- splitting and checking, like the server --------------------------------------------

  // Splits at commas and semicolons outside quotes and angle brackets; `complete` says whether
  // the last piece ended with a separator.
  const split = (text) => {
    const pieces = [];
    let current = "", quoted = false, angled = false, escaped = false;
    for (const ch of text) {
      if (escaped) { current += ch; escaped = false; continue; }
      if (quoted && ch === "\\") { current += ch; escaped = true; continue; }
      if (ch === '"' && !angled) quoted = !quoted;
      else if (ch === "<" && !quoted) angled = true;
      else if (ch === ">" && !quoted) angled = false;
      if ((ch === "," || ch === ";" || ch === "\n") && !quoted && !angled) {
        pieces.push(current);
        current = "";
        continue;
      }
      current += ch;
    }
    return { pieces: pieces.map((p) => p.trim()).filter(Boolean), rest: current };
  };

  // Built from strings: gettext's extractor misreads a quote or backtick inside a regex literal.
  const ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
  const ATOM = new RegExp("^" + ATEXT + "(\\." + ATEXT + ")*$");
  const QUOTED = new RegExp('^"([^"\\\\\\r\\n]|\\\\.)*"$');
  const NEEDS_QUOTES = new RegExp('[()<>[\\]:;@\\\\,."]');
  const QUOTE_ME = new RegExp('(["\\\\])', "g");
  const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

  const asciiDomain = (domain) => {
    try {
      return new URL(`http://${domain}/`).hostname;
    } catch {
      return "";
    }
  };

  // {name, address, error} for one piece: "Name <addr>", "<addr>" or "addr".
  const check = (text) => {
    let name = "", address = text;
    const angled = text.match(/^(.*?)\s*<([^<>]*)>$/s);
    if (angled) {
      name = angled[1].trim();
      address = angled[2].trim();
      if (name.startsWith('"') && name.endsWith('"') && name.length > 1) name = name.slice(1, -1).replace(/\\(.)/g, "$1");
    } else if (/[<>]/.test(text)) {
      return { name, address, error: gettext("Put the address between < and >, like Ann <ann@example.org>.") };
    }
    const at = address.lastIndexOf("@");
    if (at < 0) return { name, address, error: interpolate(gettext("%(address)s has no @."), { address }, true) };
    const local = address.slice(0, at), domain = address.slice(at + 1);
    if (!local) return { name, address, error: interpolate(gettext("%(address)s has nothing before the @."), { address }, true) };
    if (!domain) return { name, address, error: interpolate(gettext("%(address)s has no domain after the @."), { address }, true) };
    if (/[^\x00-\x7f]/.test(local)) {
      return {
        name, address,
        error: interpolate(gettext("%(address)s needs SMTPUTF8 (non-ASCII letters before the @). This webmail cannot send to such addresses yet."), { address }, true),
      };
    }
    if (!ATOM.test(local) && !QUOTED.test(local)) return { name, address, error: interpolate(gettext("%(address)s is not a valid email address."), { address }, true) };
    const ascii = asciiDomain(domain);
    const labels = ascii.split(".");
    if (!ascii || labels.length < 2 || !labels.every((label) => LABEL.test(label)) || /^\d+$/.test(labels.at(-1))) {
      return { name, address, error: interpolate(gettext("%(address)s: the domain is not valid."), { address }, true) };
    }
    return { name, address, error: "" };
  };

  // "Name <address>" with the name quoted when it needs to be.
  const headerValue = (name, address) => {
    if (!name) return address;
    const quoted = NEEDS_QUOTES.test(name) ? `"${name.replace(QUOTE_ME, "\\$1")}"` : name;
    return `${quoted} <${address}>`;
  };

  // -- one field ------------------------------------------------------------------------

  const enhance = (input) => {
    const id = input.id || `recipients-${++counter}`;
    const box = document.createElement("div");
    box.className = "recipients";
    const list = document.createElement("ul");
    list.className = "chips";
    list.setAttribute("role", "list");
    const entry = document.createElement("input");
    entry.type = "text";
    entry.id = `${id}-entry`;
    entry.className = "recipients-entry";
    entry.autocomplete = "off";
    entry.spellcheck = false;
    entry.placeholder = input.placeholder;
    entry.setAttribute("role", "combobox");
    entry.setAttribute("aria-autocomplete", "list");
    entry.setAttribute("aria-expanded", "false");
    for (const attribute of ["aria-invalid", "aria-describedby"]) {
      if (input.hasAttribute(attribute)) entry.setAttribute(attribute, input.getAttribute(attribute));
    }
    const options = document.createElement("ul");
    options.className = "suggestions";
    options.id = `${id}-suggestions`;
    options.setAttribute("role", "listbox");
    options.hidden = true;
    entry.setAttribute("aria-controls", options.id);
    box.append(list, entry, options);
    input.before(box);
    input.hidden = true;
    const label = form.querySelector(`label[for="${CSS.escape(input.id)}"]`);
    if (label) {
      label.htmlFor = entry.id;
    }
    // Names here and on the chips come from their text, never aria-label: a label's text (To,
    // Cc) must name its field alone.
    options.setAttribute("aria-label", gettext("Suggestions"));
    if (input.name === "cc") entry.setAttribute("aria-keyshortcuts", "Control+Shift+C Meta+Shift+C");
    if (input.name === "bcc") entry.setAttribute("aria-keyshortcuts", "Control+Shift+B Meta+Shift+B");

    const chips = () => Array.from(list.children);

    // The field the server reads: every chip's text, then what is still being typed.
    const sync = (changed) => {
      const values = chips().map((chip) => chip.dataset.value);
      if (entry.value.trim()) values.push(entry.value.trim());
      input.value = values.join(", ");
      entry.placeholder = list.children.length ? "" : input.placeholder;
      if (changed) input.dispatchEvent(new Event("input", { bubbles: true }));
    };

    const addChip = (text) => {
      const { name, address, error } = check(text);
      const chip = document.createElement("li");
      chip.className = error ? "chip invalid" : "chip";
      chip.dataset.value = error ? text : headerValue(name, address);
      chip.dataset.address = address.toLowerCase();
      const shown = document.createElement("button");
      shown.type = "button";
      shown.className = "chip-label";
      shown.textContent = name || address;
      shown.title = error || chip.dataset.value;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "chip-remove";
      const cross = document.createElement("span");
      cross.setAttribute("aria-hidden", "true");
      cross.textContent = "×";
      const removeText = document.createElement("span");
      removeText.className = "visually-hidden";
      removeText.textContent = interpolate(gettext("Remove %(recipient)s"), { recipient: chip.dataset.value }, true);
      remove.append(cross, removeText);
      chip.append(shown, remove);
      if (error) {
        const reason = document.createElement("span");
        reason.id = `${id}-reason-${++counter}`;
        reason.className = "visually-hidden";
        reason.textContent = error;
        chip.append(reason);
        shown.setAttribute("aria-describedby", reason.id);
        shown.setAttribute("aria-invalid", "true");
      }
      list.append(chip);
    };

    const commit = (pieces) => {
      if (!pieces.length) return;
      pieces.forEach(addChip);
      sync(true);
    };

    list.addEventListener("click", (event) => {
      const button = event.target instanceof Element ? event.target.closest("button") : null;
      if (!button) return;
      const chip = button.closest(".chip");
      chip.remove();
      if (button.classList.contains("chip-label")) {
        const { pieces } = split(entry.value);
        commit(pieces);
        entry.value = chip.dataset.value;
      }
      sync(true);
      entry.focus();
    });

    // -- suggestions -----------------------------------------------------------------------

    let active = -1, pending = null, timer = 0;
    const items = () => Array.from(options.children);
    const close = () => {
      options.hidden = true;
      options.replaceChildren();
      active = -1;
      entry.setAttribute("aria-expanded", "false");
      entry.removeAttribute("aria-activedescendant");
    };
    const highlight = (index) => {
      const all = items();
      active = all.length ? (index + all.length) % all.length : -1;
      all.forEach((item, i) => item.setAttribute("aria-selected", String(i === active)));
      if (active >= 0) {
        entry.setAttribute("aria-activedescendant", all[active].id);
        all[active].scrollIntoView({ block: "nearest" });
      }
    };
    const accept = (item) => {
      entry.value = "";
      commit([item.dataset.value]);
      close();
      entry.focus();
    };
    const show = (found) => {
      close();
      const present = new Set(chips().map((chip) => chip.dataset.address));
      for (const row of found.filter((row) => !present.has(row.address))) {
        const item = document.createElement("li");
        item.id = `${id}-option-${++counter}`;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        item.dataset.value = row.value;
        if (row.name) {
          const name = document.createElement("span");
          name.className = "suggestion-name";
          name.textContent = row.name;
          item.append(name, " ");
        }
        const address = document.createElement("span");
        address.className = "suggestion-address";
        address.textContent = row.address;
        item.append(address);
        options.append(item);
      }
      if (!options.children.length) return;
      options.hidden = false;
      entry.setAttribute("aria-expanded", "true");
    };
    const suggest = () => {
      clearTimeout(timer);
      pending?.abort();
      const query = entry.value.trim();
      if (!query) return close();
      timer = setTimeout(async () => {
        const controller = (pending = new AbortController());
        try {
          const response = await fetch(`${url}?q=${encodeURIComponent(query)}`, {
            signal: controller.signal,
            headers: { Accept: "application/json" },
            credentials: "same-origin",
          });
          const found = response.ok ? await response.json() : [];
          if (!controller.signal.aborted && Array.isArray(found) && entry.value.trim() === query) show(found);
        } catch (error) {
          if (error.name !== "AbortError") close(); // no suggestions is no harm: typing goes on
        }
      }, 150);
    };
    options.addEventListener("mousedown", (event) => event.preventDefault()); // keep the focus
    options.addEventListener("click", (event) => {
      const item = event.target instanceof Element ? event.target.closest('[role="option"]') : null;
      if (item) accept(item);
    });

    // -- typing ------------------------------------------------------------------------------

    entry.addEventListener("input", () => {
      const { pieces, rest } = split(entry.value);
      if (pieces.length) {
        entry.value = rest.trimStart();
        commit(pieces);
      } else {
        sync(false);
      }
      suggest();
    });
    entry.addEventListener("paste", (event) => {
      const text = event.clipboardData?.getData("text");
      if (!text) return;
      event.preventDefault();
      const { pieces, rest } = split(`${entry.value}${text}`);
      entry.value = "";
      commit([...pieces, ...(rest.trim() ? [rest.trim()] : [])]);
      close();
    });
    entry.addEventListener("keydown", (event) => {
      const open = !options.hidden && items().length > 0;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!open) return;
        event.preventDefault();
        highlight(active + (event.key === "ArrowDown" ? 1 : -1));
      } else if (event.key === "Escape" && open) {
        event.preventDefault();
        close();
      } else if ((event.key === "Enter" || event.key === "Tab" || event.key === ",") && open && active >= 0) {
        event.preventDefault();
        accept(items()[active]);
      } else if ((event.key === "Enter" || event.key === "Tab") && entry.value.trim()) {
        if (event.key === "Enter" && !(event.ctrlKey || event.metaKey)) event.preventDefault();
        const text = entry.value.trim();
        entry.value = "";
        commit([text]);
        close();
      } else if (event.key === "Backspace" && !entry.value && list.lastElementChild) {
        event.preventDefault();
        list.lastElementChild.remove();
        sync(true);
      }
    });
    entry.addEventListener("blur", () => {
      const text = entry.value.trim();
      close();
      if (!text) return;
      entry.value = "";
      commit([text]);
    });
    box.addEventListener("click", (event) => {
      if (event.target === box || event.target === list) entry.focus();
    });

    // What the field held when the page came (a reply's addresses, a refused form's input).
    const { pieces, rest } = split(input.value);
    [...pieces, ...(rest.trim() ? [rest.trim()] : [])].forEach(addChip);
    sync(false);
    return entry;
  };

  const entries = Object.fromEntries(fields.map((input) => [input.name, enhance(input)]));

  document.addEventListener("keydown", (event) => {
    if (!(event.ctrlKey || event.metaKey) || !event.shiftKey || event.altKey) return;
    const target = { c: entries.cc, b: entries.bcc }[event.key.toLowerCase()];
    if (!target) return;
    event.preventDefault();
    target.focus();
  });
})();
