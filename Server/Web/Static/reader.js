// readsync's web reader: the one script. Everything works without it; it
// saves reading progress as an article is scrolled, fills a note's passage
// from the text selected in the article, and sets up reading offline (the
// service worker, /sw.js). It runs from this file only: the pages'
// Content-Security-Policy forbids inline script.
"use strict";

// Offline: the service worker keeps the unread articles of the list shown
// and queues what is done with no network; each page load sends the queue.
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.addEventListener("message", (event) => {
    const message = event.data || {};
    const root = document.documentElement;
    if (message.kept !== undefined) root.dataset.offlineReady = String(message.kept);
    if (message.queued !== undefined) {
      root.dataset.queued = String(message.queued);
      const status = document.getElementById("queue");
      if (status) {
        status.hidden = message.queued === 0;
        status.textContent = message.queued === 1 ? "1 change made offline waits to be sent."
          : `${message.queued} changes made offline wait to be sent.`;
      }
    }
  });
  navigator.serviceWorker.register("/sw.js").then(() => navigator.serviceWorker.ready).then((registration) => {
    const worker = registration.active;
    worker.postMessage({ flush: true });
    const unread = [...document.querySelectorAll(".articles .item:not(.is-read) .title")].map((link) => link.getAttribute("href"));
    if (document.querySelector(".articles")) worker.postMessage({ keep: unread });
  }).catch(() => {});
}

document.addEventListener("DOMContentLoaded", () => {
  const reader = document.getElementById("reader");
  if (!reader) return;
  const body = reader.querySelector(".body");
  const article = reader.dataset.article;
  const csrf = reader.dataset.csrf;
  let saved = parseFloat(reader.dataset.progress || "0");
  let timer = null;

  // How far through the text the bottom of the window is, 0…1.
  function fraction() {
    const box = body.getBoundingClientRect();
    if (box.height <= 0) return 0;
    return Math.min(1, Math.max(0, (window.innerHeight - box.top) / box.height));
  }

  // Progress only ever goes forward, and a read article keeps its mark
  // (the server checks both again).
  function send() {
    timer = null;
    const now = Math.round(fraction() * 100) / 100;
    if (reader.dataset.read || now <= saved + 0.02) return;
    saved = now;
    const form = new URLSearchParams({ csrf: csrf, progress: String(now) });
    fetch(`/articles/${article}/progress`, { method: "POST", body: form, credentials: "same-origin", keepalive: true })
      .catch(() => {});
  }

  window.addEventListener("scroll", () => { if (!timer) timer = setTimeout(send, 1500); }, { passive: true });
  window.addEventListener("pagehide", () => { if (timer) { clearTimeout(timer); send(); } });

  // A passage selected in the text becomes the new note's quote.
  const quote = document.getElementById("quote");
  if (quote) {
    document.addEventListener("selectionchange", () => {
      const selection = document.getSelection();
      if (!selection || selection.isCollapsed || !body.contains(selection.anchorNode)) return;
      const text = selection.toString().trim();
      if (text) quote.value = text;
    });
  }
});
