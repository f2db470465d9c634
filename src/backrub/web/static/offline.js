// The page's side of working offline: registers the service worker (static/sw.js, served at
// /sw.js) and tells it what this page loaded before the worker took it over, so a reload
// without Wi-Fi still finds the page, its scripts and styles, the map and the picture.
export function keepOffline() {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker
    .register("/sw.js", { scope: "/" })
    .then(() => navigator.serviceWorker.ready)
    .then((registration) => {
      const loaded = performance.getEntriesByType("resource").map((entry) => entry.name);
      const urls = [window.location.href, ...loaded].filter((url) => !url.includes("/stream"));
      registration.active?.postMessage({ type: "keep", urls });
    })
    .catch(() => {
      // no worker (a private window, an old browser): the page still runs, only not reloads offline
    });
}

// The session is over: the kept live pages (a person's plan) are dropped from this device.
export function forgetOffline() {
  navigator.serviceWorker?.controller?.postMessage({ type: "forget" });
}
