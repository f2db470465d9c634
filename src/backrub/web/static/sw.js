// The service worker: keeps the live page's shell on this device, so the giver's page goes on
// (and even reloads) while the Wi-Fi is away for a minute. Served at /sw.js so its scope is
// the whole app; it answers only what is listed below and leaves everything else, the live
// state, the stream and every POST, to the network as if it were not there.
const SHELL = "backrub-shell-1"; // versioned static files and technique pictures: the same for all
const PAGES = "backrub-pages-1"; // a running session's live page and map: forgotten at its end
const KEPT = new Set([SHELL, PAGES]);

const isShell = (url) => url.pathname.startsWith("/static/") || url.pathname.startsWith("/api/techniques/");
const isPage = (url) =>
  /^\/session\/[^/]+(\/remote)?$/.test(url.pathname) || /^\/api\/sessions\/[^/]+\/map\.svg$/.test(url.pathname);

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) if (!KEPT.has(name)) await caches.delete(name);
      await self.clients.claim();
    })(),
  );
});

// Only a whole, direct answer is kept: never an error, nor a redirect (a finished session's
// page sends to its summary).
const keepable = (response) => response.ok && !response.redirected && response.type === "basic";

async function shellFirst(request) {
  const cache = await caches.open(SHELL);
  const kept = await cache.match(request);
  if (kept) return kept;
  const response = await fetch(request);
  if (keepable(response)) await cache.put(request, response.clone());
  return response;
}

async function networkFirst(request) {
  const cache = await caches.open(PAGES);
  try {
    const response = await fetch(request);
    if (keepable(response)) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    const kept = await cache.match(request);
    if (kept) return kept;
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (isShell(url)) event.respondWith(shellFirst(request));
  else if (isPage(url)) event.respondWith(networkFirst(request));
});

// From the page: "keep" what it loaded before this worker took it over (its first visit);
// "forget" the live pages once the session is over (they hold the plan of a person).
self.addEventListener("message", (event) => {
  const { type, urls } = event.data || {};
  if (type === "keep" && Array.isArray(urls)) {
    event.waitUntil(
      (async () => {
        for (const href of urls) {
          const url = new URL(href, self.location.origin);
          if (url.origin !== self.location.origin) continue;
          const name = isShell(url) ? SHELL : isPage(url) ? PAGES : null;
          if (!name) continue;
          const cache = await caches.open(name);
          if (await cache.match(url.href)) continue;
          try {
            const response = await fetch(url.href, { credentials: "same-origin" });
            if (keepable(response)) await cache.put(url.href, response);
          } catch {
            // offline already: kept at the next visit
          }
        }
      })(),
    );
  } else if (type === "forget") {
    event.waitUntil(caches.delete(PAGES));
  }
});
