// The print page: the print dialog opens once the page (and its images) has loaded, and again
// from the button. Without this file the browser's own Print does the same.
"use strict";

document.querySelector("[data-print]")?.addEventListener("click", () => window.print());
window.addEventListener("load", () => window.print(), { once: true });
