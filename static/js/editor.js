// The rich-text editor (Squire, static/vendor/squire) in place of a textarea, for the composer
// and the signature page. Progressive: without this file the textarea is the message, sent as
// plain text, and the server does everything else. With it:
// - the HTML goes in a hidden field (data-html-field) and the textarea (data-text-field) is kept
//   in step with a plain-text rendering, for the size check;
// - what is pasted or set goes through DOMPurify with a small allow-list; the server cleans it
//   again (outbox/richtext.py);
// - pasted or dropped images become data: images (sent as inline cid: parts), within the size limit;
// - a "Plain text" switch per message (data-plain-field), and choosing another From swaps the
//   signature in place (data-identity-field; each option carries its signature).
// Every change dispatches a bubbling "input" event on the form.
"use strict";

(() => {
  const area = document.querySelector("[data-editor]");
  if (!area || !window.Squire || !window.DOMPurify) return;
  const form = area.closest("form");
  const field = (name) => (name ? form.elements.namedItem(name) : null);
  const hidden = field(area.dataset.htmlField);
  const textarea = field(area.dataset.textField);
  const plainBox = field(area.dataset.plainField);
  const identity = field(area.dataset.identityField);
  const root = area.querySelector("[data-editor-area]");
  const problem = area.querySelector("[data-editor-error]");
  const tooLarge = form.querySelector("[data-too-large]");
  const allowImages = "images" in area.dataset;
  const limit = Number(form.dataset.maxMessageBytes || 0);
  if (!hidden || !root) return;

  // -- cleaning: the composer's allow-list (the server's is the same, outbox/richtext.py) --------
  const TAGS = ["p", "div", "br", "b", "strong", "i", "em", "u", "s", "strike", "a", "ul", "ol", "li",
    "blockquote", "pre", "code", "span", "h1", "h2", "h3", "img", "hr",
    "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption"];
  const IMAGE = /^data:image\/(png|jpeg|gif|webp);base64,/i;
  const styled = new WeakMap();
  // Word and Google Docs say bold, italic and underline with styles, which are dropped: keep
  // what they mean as tags (and undo Google Docs' <b style="font-weight:normal"> wrapper).
  // The attribute is read as text: under the page's CSP the browser does not apply it (and says so
  // in the console), so node.style is empty.
  const declared = (style, property) => {
    const found = new RegExp(`(?:^|;)\\s*${property}\\s*:\\s*([^;]+)`, "i").exec(style);
    return found ? found[1].trim().toLowerCase() : "";
  };
  DOMPurify.addHook("beforeSanitizeAttributes", (node) => {
    const style = node instanceof Element ? node.getAttribute("style") : "";
    if (!style) return;
    const weight = declared(style, "font-weight");
    styled.set(node, {
      normal: weight === "normal" || weight === "400",
      bold: weight === "bold" || weight === "bolder" || Number(weight) >= 600,
      italic: declared(style, "font-style") === "italic",
      underline: /underline/.test(declared(style, "text-decoration") || declared(style, "text-decoration-line")),
    });
  });
  const wrap = (node, tag) => {
    const outer = document.createElement(tag);
    while (node.firstChild) outer.appendChild(node.firstChild);
    node.appendChild(outer);
  };
  const applyStyles = (fragment) => {
    for (const node of Array.from(fragment.querySelectorAll("*"))) {
      const meant = styled.get(node);
      if (!meant) continue;
      if (meant.normal && (node.nodeName === "B" || node.nodeName === "STRONG")) {
        node.replaceWith(...node.childNodes);
        continue;
      }
      if (meant.bold && !node.closest("b, strong, h1, h2, h3")) wrap(node, "b");
      if (meant.italic && !node.closest("i, em")) wrap(node, "i");
      if (meant.underline && !node.closest("u")) wrap(node, "u");
    }
  };
  // The server's own start HTML (data-initial-html: a reply's quote, a saved draft, a signature)
  // was cleaned on the server with a narrower allow-list than this one (outbox/richtext.py), and
  // parsing it again through DOMPurify costs more than anything else when the composer opens
  // (bench/composer.py). It is parsed inert instead; what is pasted or typed is always cleaned.
  let trusted = false;
  const inert = (html) => {
    const template = document.createElement("template");
    template.innerHTML = html;
    return document.importNode(template.content, true);
  };
  const clean = (html) => {
    if (trusted) return inert(html);
    const fragment = DOMPurify.sanitize(html, {
      ALLOWED_TAGS: TAGS,
      ALLOWED_ATTR: ["href", "src", "alt", "type", "data-signature", "colspan", "rowspan"],
      ALLOWED_URI_REGEXP: /^(?:(?:https?|mailto):|data:image\/(?:png|jpeg|gif|webp);base64,)/i,
      RETURN_DOM_FRAGMENT: true,
    });
    applyStyles(fragment);
    for (const img of Array.from(fragment.querySelectorAll("img"))) {
      if (!allowImages || !IMAGE.test(img.getAttribute("src") || "")) img.remove();
    }
    for (const quote of Array.from(fragment.querySelectorAll("blockquote[type]"))) {
      if (quote.getAttribute("type") !== "cite") quote.removeAttribute("type");
    }
    return document.importNode(fragment, true);
  };

  const editor = new Squire(root, { blockTag: "DIV", sanitizeToDOMFragment: clean });

  // -- plain text: what the textarea holds, like outbox/richtext.py plain_text ------------------
  const BLOCKS = new Set(["DIV", "P", "LI", "BLOCKQUOTE", "PRE", "H1", "H2", "H3", "UL", "OL", "HR"]);
  const toText = (node) => {
    let out = "";
    const line = () => { if (out && !out.endsWith("\n")) out += "\n"; };
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) { out += child.data.replace(/\u00a0/g, " "); continue; }
      if (child.nodeType !== Node.ELEMENT_NODE) continue;
      const name = child.nodeName;
      if (name === "BR") { out += "\n"; continue; }
      if (BLOCKS.has(name)) line();
      if (name === "BLOCKQUOTE") {
        out += toText(child).replace(/\n$/, "").split("\n").map((l) => (l ? `> ${l}` : ">")).join("\n") + "\n";
      } else if (child.hasAttribute("data-signature")) {
        out += "-- \n" + toText(child).replace(/^--\s*\n/, "");
      } else if (name === "LI") {
        out += (child.parentNode.nodeName === "OL" ? `${Array.from(child.parentNode.children).indexOf(child) + 1}. ` : "* ") + toText(child);
      } else if (name === "A") {
        const text = child.textContent.trim();
        const href = (child.getAttribute("href") || "").replace(/^mailto:/i, "");
        out += text && text !== href ? `${toText(child)} <${href}>` : toText(child) || href;
      } else {
        out += toText(child);
      }
      if (BLOCKS.has(name)) line();
    }
    return out;
  };
  const escapeHtml = (text) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const linesToHtml = (lines) => lines.map((l) => (l ? `<div>${escapeHtml(l)}</div>` : "<div><br></div>")).join("");
  // Plain to rich: a line a block, "> " lines a quote, the signature its block.
  const toHtml = (text, signatureText, signatureHtml) => {
    const at = signatureText ? text.indexOf(signatureText) : -1;
    if (at >= 0) {
      return toHtml(text.slice(0, at).replace(/\n$/, ""), "", "") + signatureHtml + toHtml(text.slice(at + signatureText.length).replace(/^\n/, ""), "", "");
    }
    if (!text) return "";
    const out = [];
    let quote = [];
    const flush = () => {
      if (quote.length) out.push(`<blockquote type="cite">${toHtml(quote.join("\n"), "", "")}</blockquote>`);
      quote = [];
    };
    for (const line of text.split("\n")) {
      if (line.startsWith(">")) { quote.push(line.replace(/^> ?/, "")); continue; }
      flush();
      out.push(linesToHtml([line]));
    }
    flush();
    return out.join("");
  };

  // -- keeping the form in step -----------------------------------------------------------------
  const plainMode = () => Boolean(plainBox && plainBox.checked);
  const changed = () => form.dispatchEvent(new Event("input", { bubbles: true }));
  const sync = () => {
    hidden.value = plainMode() ? "" : editor.getHTML();
    if (textarea && !plainMode()) textarea.value = toText(root).replace(/\n+$/, "\n");
  };
  editor.addEventListener("input", () => { sync(); changed(); });
  form.addEventListener("submit", sync, true);

  // -- size: the limit of the whole message -----------------------------------------------------
  const bytes = (text) => new TextEncoder().encode(text).length;
  const filesInput = form.querySelector('input[type="file"]');
  const currentSize = () =>
    bytes(editor.getHTML()) + (textarea ? bytes(textarea.value) : 0) +
    Array.from(filesInput ? filesInput.files : []).reduce((sum, file) => sum + Math.ceil(file.size * 4 / 3), 0);
  const say = (text) => {
    if (!problem) return;
    problem.textContent = text;
    problem.hidden = !text;
  };
  const fits = (extra) => {
    const ok = !limit || currentSize() + extra <= limit;
    say(ok ? "" : (tooLarge ? tooLarge.textContent : area.dataset.tooLarge || ""));
    return ok;
  };
  editor.addEventListener("willPaste", (event) => {
    const detail = event.detail;
    if (!fits(bytes(detail.html || detail.text || ""))) event.preventDefault();
  });

  // -- images: pasted or dropped, as data: URLs --------------------------------------------------
  const insertImages = (files) => {
    for (const file of files) {
      if (!IMAGE.test(`data:${file.type};base64,`)) { say(area.dataset.imageTypes || ""); continue; }
      if (!fits(Math.ceil(file.size * 4 / 3) + 64)) continue;
      const reader = new FileReader();
      reader.addEventListener("load", () => {
        editor.insertImage(reader.result, { alt: file.name || "" });
        sync();
        changed();
      });
      reader.readAsDataURL(file);
    }
  };
  const imageFiles = (list) => Array.from(list || []).filter((file) => file.type.startsWith("image/"));
  editor.addEventListener("pasteImage", (event) => {
    const items = Array.from(event.detail.clipboardData.items || []);
    const files = items.filter((item) => item.kind === "file").map((item) => item.getAsFile()).filter(Boolean);
    if (allowImages) insertImages(imageFiles(files));
  });
  root.addEventListener("dragover", (event) => {
    if (allowImages && event.dataTransfer && Array.from(event.dataTransfer.types).includes("Files")) event.preventDefault();
  });
  root.addEventListener("drop", (event) => {
    const files = imageFiles(event.dataTransfer && event.dataTransfer.files);
    if (!files.length) return;
    event.preventDefault();
    if (allowImages) insertImages(files);
  }, true);

  // -- the toolbar --------------------------------------------------------------------------------
  const FORMATS = { bold: "B", italic: "I", underline: "U", ul: "UL", ol: "OL", quote: "BLOCKQUOTE", link: "A" };
  const COMMANDS = {
    bold: (on) => (on ? editor.removeBold() : editor.bold()),
    italic: (on) => (on ? editor.removeItalic() : editor.italic()),
    underline: (on) => (on ? editor.removeUnderline() : editor.underline()),
    ul: (on) => (on ? editor.removeList() : editor.makeUnorderedList()),
    ol: (on) => (on ? editor.removeList() : editor.makeOrderedList()),
    quote: (on) => (on ? editor.decreaseQuoteLevel() : editor.increaseQuoteLevel()),
    link: (on) => {
      if (on) return editor.removeLink();
      let url = (window.prompt(area.dataset.linkPrompt || "URL", "https://") || "").trim();
      if (!url || url === "https://") return editor;
      if (!/^(https?|mailto):/i.test(url)) url = url.includes("@") && !url.includes("/") ? `mailto:${url}` : `https://${url}`;
      return editor.makeLink(url);
    },
    clear: () => editor.removeAllFormatting(),
  };
  const buttons = Array.from(area.querySelectorAll("[data-command]"));
  const pressed = () => {
    for (const button of buttons) {
      const format = FORMATS[button.dataset.command];
      if (format) button.setAttribute("aria-pressed", String(editor.hasFormat(format)));
    }
  };
  for (const button of buttons) {
    button.addEventListener("click", () => {
      const command = COMMANDS[button.dataset.command];
      const format = FORMATS[button.dataset.command];
      command(format ? editor.hasFormat(format) : false);
      editor.focus();
      pressed();
      sync();
      changed();
    });
  }
  editor.addEventListener("pathChange", pressed);
  root.addEventListener("keyup", pressed);

  // -- signatures: the one of the chosen From, in place -----------------------------------------
  const signatureOf = (option) => ({
    text: option ? option.dataset.signature || "" : "",
    html: option ? option.dataset.signatureHtml || "" : "",
  });
  const chosen = () => (identity && identity.selectedOptions ? identity.selectedOptions[0] : null);
  let previous = signatureOf(chosen());
  const swapInText = (text, old, next) => {
    if (old.text && text.includes(old.text)) return text.replace(old.text, next.text).replace(/\n\n$/, "\n");
    if (old.text || !next.text) return text; // removed or edited by the person: left alone
    const quote = text.search(/^[^\n>][^\n]*\n>/m);
    if (quote >= 0) return `${text.slice(0, quote)}${next.text}\n\n${text.slice(quote)}`;
    return `${text.replace(/\n+$/, "")}\n\n${next.text}`;
  };
  const swapInEditor = (old, next) => {
    const block = root.querySelector("[data-signature]");
    const fresh = next.html ? clean(next.html).firstElementChild : null;
    if (block) {
      if (fresh) block.replaceWith(fresh);
      else block.remove();
    } else if (!old.html && fresh) {
      const quote = Array.from(root.children).find((child) => child.nodeName === "BLOCKQUOTE");
      const before = quote && quote.previousElementSibling ? quote.previousElementSibling : null;
      if (before) root.insertBefore(fresh, before);
      else root.appendChild(fresh);
    }
  };
  if (identity) {
    identity.addEventListener("change", () => {
      const next = signatureOf(chosen());
      if (plainMode() && textarea) textarea.value = swapInText(textarea.value, previous, next);
      else {
        editor.saveUndoState();
        swapInEditor(previous, next);
      }
      previous = next;
      sync();
      changed();
    });
  }

  // -- plain or rich, per message -----------------------------------------------------------------
  const FORMATTED = "b, strong, i, em, u, s, strike, a, ul, ol, img, h1, h2, h3, pre, code, hr, blockquote:not([type='cite'])";
  const label = root.getAttribute("aria-label");
  const show = () => {
    const plain = plainMode();
    area.querySelector("[data-editor-rich]").hidden = plain;
    // One field named "Message" at a time: the hidden one gives up its name.
    if (plain) root.removeAttribute("aria-label");
    else root.setAttribute("aria-label", label);
    if (textarea) textarea.closest("[data-editor-text]").hidden = !plain;
  };
  if (plainBox) {
    plainBox.closest("[data-editor-switch]").hidden = false;
    plainBox.addEventListener("change", () => {
      const current = signatureOf(chosen());
      if (plainBox.checked) {
        if (root.querySelector(FORMATTED) && !window.confirm(area.dataset.confirmPlain || "")) {
          plainBox.checked = false;
          return;
        }
        textarea.value = toText(root).replace(/\n+$/, "\n");
      } else {
        editor.setHTML(toHtml(textarea.value, current.text, current.html) || "<div><br></div>");
      }
      show();
      sync();
      changed();
      (plainBox.checked ? textarea : editor).focus();
    });
  }

  // -- start --------------------------------------------------------------------------------------
  if (hidden.value) editor.setHTML(hidden.value); // posted back after a refused Send: cleaned again
  else if (area.dataset.initialHtml) {
    trusted = true;
    try {
      editor.setHTML(area.dataset.initialHtml);
    } finally {
      trusted = false;
    }
  }
  else if (textarea && textarea.value) editor.setHTML(toHtml(textarea.value, previous.text, previous.html));
  editor.moveCursorToStart();
  area.hidden = false;
  show();
  sync();
})();
