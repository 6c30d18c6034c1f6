// DinnerParty's few enhancements. Every page works without them; the
// Content-Security-Policy allows scripts from this site only, never inline.
"use strict";

// "Copy link" buttons: <button data-copy-target="#id-of-an-input">. What they say
// comes from the page, translated: data-copied-label, data-copied-status and
// data-copy-failed-status (this file holds no words of any language).
document.querySelectorAll("[data-copy-target]").forEach((button) => {
  const input = document.querySelector(button.dataset.copyTarget);
  if (!input || !navigator.clipboard) {
    return;
  }
  const label = button.textContent;
  const status = document.getElementById(button.dataset.copyStatus || "");
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(input.value);
      button.textContent = button.dataset.copiedLabel || label;
      if (status) status.textContent = button.dataset.copiedStatus || "";
    } catch {
      input.select();
      if (status) status.textContent = button.dataset.copyFailedStatus || "";
    }
    setTimeout(() => {
      button.textContent = label;
    }, 2000);
  });
});
