// A party's start in the visitor's own time zone, beside the party's, when the
// two differ: <span data-local-time="ISO 8601 time" data-zone="Europe/Paris"
// data-your-time="Your time: {time}" hidden>; the words come translated from the
// page, and the browser formats the time in the page's language (<html lang>).
// A static file (the Content-Security-Policy allows no inline script); without
// it the page still shows the time in the party's zone.
"use strict";

const locale = document.documentElement.lang || undefined;

document.querySelectorAll("[data-local-time]").forEach((element) => {
  const moment = new Date(element.dataset.localTime);
  let zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    return;
  }
  if (Number.isNaN(moment.getTime()) || !zone || zone === element.dataset.zone) {
    return;
  }
  const options = {
    weekday: "short",
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
    timeZoneName: "short",
  };
  let mine, theirs;
  try {
    mine = new Intl.DateTimeFormat(locale, options).format(moment);
    theirs = new Intl.DateTimeFormat(locale, { ...options, timeZone: element.dataset.zone });
  } catch {
    return; // a zone this browser doesn't know
  }
  if (mine === theirs.format(moment)) {
    return;
  }
  const template = element.dataset.yourTime || "{time}";
  element.textContent = template.replace("{time}", mine);
  element.hidden = false;
});
