// DinnerParty's few enhancements. Every page works without them; the
// Content-Security-Policy allows scripts from this site only, never inline.
"use strict";

// "Copy link" buttons: <button data-copy-target="#id-of-an-input">.
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
      button.textContent = "Copied!";
      if (status) status.textContent = "Invite link copied to the clipboard.";
    } catch {
      input.select();
      if (status) status.textContent = "Select the link and copy it.";
    }
    setTimeout(() => {
      button.textContent = label;
    }, 2000);
  });
});
