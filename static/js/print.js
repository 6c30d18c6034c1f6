// The guest sheet's "Print this sheet" button (hidden until this script runs).
"use strict";

document.querySelectorAll("[data-print]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});
