// Argosy web UI: the little JavaScript its pages use (no libraries).
// 1. A page whose <main> has data-refresh="MS" (a live run) fetches itself every MS
//    milliseconds and swaps in the new version of each element marked data-live (by id),
//    until the page it gets back is no longer live.
// 2. A log whose <pre> has data-log-url (a running attempt) asks that URL every second for
//    what was written since data-offset, and appends it, until the attempt has ended.
"use strict";

function refreshLive(main) {
  const every = Number(main.dataset.refresh) || 2000;
  async function tick() {
    let response;
    try {
      response = await fetch(window.location.href, { credentials: "same-origin" });
    } catch (error) {
      window.setTimeout(tick, every * 2);
      return;
    }
    if (!response.ok) {
      window.setTimeout(tick, every * 2);
      return;
    }
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const old of document.querySelectorAll("[data-live][id]")) {
      const replacement = fresh.getElementById(old.id);
      if (replacement) old.replaceWith(document.importNode(replacement, true));
    }
    const freshMain = fresh.querySelector("main");
    if (freshMain && freshMain.dataset.refresh) {
      window.setTimeout(tick, every);
    } else {
      delete main.dataset.refresh;
      main.dataset.settled = "true";
    }
  }
  window.setTimeout(tick, every);
}

function followLog(pre) {
  const url = pre.dataset.logUrl;
  let offset = Number(pre.dataset.offset) || 0;
  const state = document.getElementById("log-state");
  async function tick() {
    let body;
    try {
      const response = await fetch(`${url}&offset=${offset}`, { credentials: "same-origin" });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      body = await response.json();
    } catch (error) {
      if (state) state.textContent = `Could not read the log (${error.message}); retrying.`;
      window.setTimeout(tick, 3000);
      return;
    }
    if (body.restart) pre.textContent = "";
    if (body.text) {
      const placeholder = pre.querySelector(".none");
      if (placeholder) placeholder.remove();
      pre.append(document.createTextNode(body.text));
      pre.scrollTop = pre.scrollHeight;
    }
    offset = body.offset;
    pre.dataset.offset = String(offset);
    if (body.running) {
      window.setTimeout(tick, 1000);
    } else {
      delete pre.dataset.logUrl;
      pre.dataset.ended = body.status;
      if (state) state.textContent = `The attempt has ended: ${body.status}.`;
    }
  }
  tick();
}

document.addEventListener("DOMContentLoaded", () => {
  const main = document.querySelector("main[data-refresh]");
  if (main) refreshLive(main);
  for (const pre of document.querySelectorAll("pre[data-log-url]")) followLog(pre);
});
