// kea console: live updates over server-sent events (no polling) and keyboard shortcuts.
// Everything works without this script; it only saves reloads and keystrokes.
"use strict";

(function () {
  const main = document.querySelector("main[data-csrf]");
  if (!main) return; // the sign-in page
  const list = document.getElementById("tasks");
  const pane = document.getElementById("task");
  const live = document.getElementById("live");
  const selected = () => main.dataset.task || "";

  function announce(text) {
    live.textContent = "";
    window.setTimeout(() => { live.textContent = text; }, 50);
  }

  // Offers count down to their expiry, from the time the server gave.
  function tick() {
    for (const t of document.querySelectorAll("time[data-expires]")) {
      const left = Math.max(0, Math.round((Date.parse(t.dataset.expires) - Date.now()) / 1000));
      t.textContent = left + " s";
    }
  }
  window.setInterval(tick, 1000);

  // Changes come in bursts (a task finishes, the next is offered): each refresh is a request of
  // its own, and only the latest request's answer is shown, so a slower, older answer never
  // overwrites a newer list.
  let listRequest = 0;
  let paneRequest = 0;

  async function refreshList() {
    const mine = ++listRequest;
    const query = selected() ? "?task=" + encodeURIComponent(selected()) : "";
    const r = await fetch("/console/fragments/tasks" + query, { credentials: "same-origin" });
    if (r.redirected || !r.ok) { window.location.assign("/console/login"); return; }
    const html = await r.text();
    if (mine !== listRequest) return;
    const offersBefore = list.querySelectorAll("li.offer").length;
    list.innerHTML = html;
    tick();
    const offersNow = list.querySelectorAll("li.offer").length;
    if (offersNow > offersBefore) announce("New task offered: " + list.querySelector("li.offer a").textContent.trim());
  }

  // Shows task `id` in the pane without leaving the page.
  async function loadPane(id) {
    const mine = ++paneRequest;
    const r = await fetch("/console/fragments/task/" + encodeURIComponent(id), { credentials: "same-origin" });
    if (r.redirected || r.status === 401) { window.location.assign("/console/login"); return; }
    if (!r.ok) return;
    const html = await r.text();
    if (mine !== paneRequest) return;
    pane.innerHTML = html;
    main.dataset.task = id;
    window.history.replaceState(null, "", "/console?task=" + encodeURIComponent(id));
    tick();
  }

  const typing = () => {
    const el = document.activeElement;
    return el && pane.contains(el) && ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName);
  };

  const events = new EventSource("/console/events");
  events.addEventListener("tasks", (e) => {
    let change = {};
    try { change = JSON.parse(e.data); } catch (_) { /* a refresh is still right */ }
    refreshList();
    if (!change.task) return;
    // Nothing open (or only finished work) and an offer arrived: open it. The open task changed:
    // show it as it is now.
    const open = pane.querySelector(".pane");
    const finished = !open || ["completed", "canceled"].includes(open.dataset.status);
    if (change.status === "reserved" && (!selected() || finished) && change.task !== selected()) loadPane(change.task);
    else if (change.task === selected() && !typing()) loadPane(change.task);
  });
  events.addEventListener("refresh", () => refreshList());
  // The stream (re)started: anything that changed between this page's render (or the last
  // connection) and now was not sent on it, so read the list once.
  events.addEventListener("ready", () => refreshList());

  // Keys: A accept, V approve, N next task. Not while typing in a field.
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    if (t && (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName))) return;
    const key = e.key.toLowerCase();
    if (key === "a" || key === "v") {
      const button = pane.querySelector('button[data-key="' + key + '"]') ||
                     list.querySelector('button[data-key="' + key + '"]');
      if (button) { e.preventDefault(); button.click(); }
    } else if (key === "n") {
      const links = Array.from(list.querySelectorAll("li.offer a, li.assigned a"));
      if (links.length === 0) return;
      const i = links.findIndex((a) => a.getAttribute("aria-current") === "true");
      e.preventDefault();
      window.location.assign(links[(i + 1) % links.length].href);
    }
  });
})();
