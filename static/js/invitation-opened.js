// A personal invitation's page tells the site it was shown in a browser, so the
// host sees "Opened". The page's GET writes nothing: the link scanners that open
// every link in an email fetch it without running scripts. A static file (the
// Content-Security-Policy allows no inline script).
"use strict";

(() => {
  const script = document.currentScript;
  const token = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (!script || !script.dataset.openedUrl || !token) {
    return; // no reply form (started, or replies closed): nothing to tell
  }
  fetch(script.dataset.openedUrl, {
    method: "POST",
    headers: { "X-CSRFToken": token.value },
    credentials: "same-origin",
    keepalive: true,
  }).catch(() => {});
})();
