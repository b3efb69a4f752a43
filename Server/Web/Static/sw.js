// readsync's web reader offline: a service worker (scope /).
//
// - Pages are fetched from the network first and kept; with no network the
//   kept copy is shown. The list's page asks for the unread articles on it
//   to be kept (message "keep"), so they can be read with no network.
// - A form post (read marks, favorites, notes, tags, progress) that cannot
//   reach the server is queued here (IndexedDB) and the browser is sent
//   back to the page it came from; the queue is sent, in order, as soon as
//   a page is loaded from the server again (message "flush"). The server
//   then makes each an ordinary write of its replica, merged by the same
//   rules as any device's. A queued post the server refuses (its session
//   ended with a password change) is dropped; one that finds no session
//   waits for the next sign-in.
// - Signing out deletes the kept pages and the queue.
"use strict";

const PAGES = "readsync-pages-v1";
const STATIC = ["/static/reader.css", "/static/reader.js", "/static/icon.svg"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(PAGES).then((cache) => cache.addAll(STATIC)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname === "/sw.js") return;
  if (request.method === "GET" && (url.pathname === "/" || url.pathname.startsWith("/articles/") || url.pathname.startsWith("/static/"))) {
    event.respondWith(networkFirst(request));
  } else if (request.method === "POST" && (url.pathname.startsWith("/articles/") || url.pathname.startsWith("/notes/"))) {
    event.respondWith(postOrQueue(request));
  } else if (request.method === "POST" && url.pathname === "/signout") {
    event.respondWith(forget().then(() => fetch(request)));
  }
});

// Signing out leaves nothing of the library in this browser: the kept
// pages and the queue go (a queue not sent by then is lost with them).
async function forget() {
  await caches.delete(PAGES);
  const db = await database();
  await new Promise((resolve) => {
    const tx = db.transaction("posts", "readwrite");
    tx.objectStore("posts").clear();
    tx.oncomplete = resolve;
    tx.onerror = resolve;
  });
}

async function networkFirst(request) {
  const cache = await caches.open(PAGES);
  try {
    const response = await fetch(request);
    // Only pages of the signed-in user, as the server made them.
    if (response.ok && !response.redirected) await cache.put(request, response.clone());
    return response;
  } catch (offline) {
    const kept = await cache.match(request);
    if (kept) return kept;
    return new Response("<!doctype html><title>Offline</title><p>You are offline and this page was not kept for reading offline. " +
      "<a href=\"/\">Your list</a></p>", { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
  }
}

async function postOrQueue(request) {
  const body = await request.clone().text();
  try {
    return await fetch(request);
  } catch (offline) {
    await enqueue({ url: request.url, body: body, at: Date.now() });
    // Back to the page the post came from (kept), which shows the queue.
    const back = request.referrer && new URL(request.referrer).origin === self.location.origin ? request.referrer : "/";
    return Response.redirect(back, 303);
  }
}

self.addEventListener("message", (event) => {
  const message = event.data || {};
  if (message.keep) event.waitUntil(keep(message.keep, event.source));
  if (message.flush) event.waitUntil(flush(event.source));
});

async function keep(paths, client) {
  const cache = await caches.open(PAGES);
  let kept = 0;
  for (const path of paths) {
    try {
      const response = await fetch(path, { credentials: "same-origin" });
      if (response.ok && !response.redirected) { await cache.put(path, response); kept += 1; }
    } catch (offline) { break; }
  }
  if (client) client.postMessage({ kept: kept });
}

let flushing = null;
function flush(client) {
  flushing = flushing || sendQueued().finally(() => { flushing = null; });
  return flushing.then(async () => { if (client) client.postMessage({ queued: (await queued()).length }); });
}

async function sendQueued() {
  for (const item of await queued()) {
    let response;
    try {
      response = await fetch(item.url, {
        method: "POST", body: item.body, credentials: "same-origin",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
      });
    } catch (offline) { return; }
    if (new URL(response.url).pathname === "/signin") return;  // sent again after the next sign-in
    await remove(item.id);
  }
}

// The queue, in IndexedDB: what was posted, in order.
function database() {
  return new Promise((resolve, reject) => {
    const opening = indexedDB.open("readsync-queue", 1);
    opening.onupgradeneeded = () => opening.result.createObjectStore("posts", { keyPath: "id", autoIncrement: true });
    opening.onsuccess = () => resolve(opening.result);
    opening.onerror = () => reject(opening.error);
  });
}

async function transaction(mode, work) {
  const db = await database();
  return new Promise((resolve, reject) => {
    const tx = db.transaction("posts", mode);
    const result = work(tx.objectStore("posts"));
    tx.oncomplete = () => resolve(result.result);
    tx.onerror = () => reject(tx.error);
  });
}

const enqueue = (item) => transaction("readwrite", (store) => store.add(item));
const queued = () => transaction("readonly", (store) => store.getAll());
const remove = (id) => transaction("readwrite", (store) => store.delete(id));
