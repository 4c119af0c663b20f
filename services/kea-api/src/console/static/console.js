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

  async function refreshList() {
    const r = await fetch("/console/fragments/tasks?task=" + encodeURIComponent(selected()),
                          { credentials: "same-origin" });
    if (r.redirected || !r.ok) { window.location.assign("/console/login"); return; }
    const offersBefore = list.querySelectorAll("li.offer").length;
    list.innerHTML = await r.text();
    tick();
    const offersNow = list.querySelectorAll("li.offer").length;
    if (offersNow > offersBefore) announce("New task offered: " + list.querySelector("li.offer a").textContent.trim());
  }

  function reloadPane() {
    const id = selected();
    window.location.assign("/console" + (id ? "?task=" + encodeURIComponent(id) : ""));
  }

  const events = new EventSource("/console/events");
  events.addEventListener("tasks", (e) => {
    let change = {};
    try { change = JSON.parse(e.data); } catch (_) { /* a refresh is still right */ }
    if (change.activity) { reloadPane(); return; }
    // Nothing open yet and something arrived: show it whole.
    if (!selected() && change.status === "reserved") { reloadPane(); return; }
    if (change.task && change.task === selected() && !document.activeElement.closest("form")) {
      reloadPane();
      return;
    }
    refreshList();
  });
  events.addEventListener("refresh", () => refreshList());

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
