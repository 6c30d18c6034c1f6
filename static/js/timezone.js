// Sign-up: the browser's time zone into the form's hidden field, so a new
// member's times read in their own zone from the start. Without this script the
// server uses its default zone; the profile changes it either way.
"use strict";

document.querySelectorAll("input[data-browser-timezone]").forEach((input) => {
  try {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone) {
      input.value = zone;
    }
  } catch {
    // An old browser without Intl time zones: the server's default stands.
  }
});
