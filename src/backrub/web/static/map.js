// The live page's back map. The page arrives with the whole map drawn by the server; after that
// a step change lights the step's regions here, by the ids in the state, and fetches only the
// step's part (its stroke, the hand on it, the knots waiting): a few hundred bytes, not the map.

const SVG = "http://www.w3.org/2000/svg";
// Drawn over the map in this order; the step's part replaces each by its class.
const PARTS = ["plan-strokes", "waiting-knots", "live-hand"];
// The ring round a lit region, as the server draws it (render/svg.py, _glow).
const GLOW = { stroke: "#ffbf00", "stroke-width": "7", "stroke-opacity": "0.9", filter: "url(#highlight-glow)" };
const RING = { stroke: "#b35900", "stroke-width": "2.2" };

export function liveMap(box, { api, afterDraw = () => {} }) {
  let overlayKey = box.dataset.key || "";
  let litKey = null;

  const svg = () => box.querySelector("svg");

  function show(state) {
    const step = state?.step;
    if (!step) return;
    light(step.regions, step.where);
    const waiting = (state.waiting_knots || []).join(",");
    const key = `${step.id}|${step.regions.join(",")}|${waiting}`;
    if (key !== overlayKey) loadOverlay(key);
  }

  // Exactly the step's regions lit: the class on each region, and a glowing ring over it.
  function light(regions, where) {
    const map = svg();
    const key = regions.join(",");
    if (!map || key === litKey) return;
    litKey = key;
    const wanted = new Set(regions);
    const overlay = map.querySelector(".highlight-overlay");
    overlay?.replaceChildren();
    for (const region of map.querySelectorAll(".region[data-region]")) {
      const lit = wanted.has(region.dataset.region);
      region.classList.toggle("highlight", lit);
      const shape = region.querySelector("path");
      if (!lit || !overlay || !shape) continue;
      for (const [kind, look] of [["highlight-glow", GLOW], ["highlight-ring", RING]]) {
        const ring = document.createElementNS(SVG, "path");
        ring.setAttribute("class", kind);
        ring.setAttribute("d", shape.getAttribute("d"));
        ring.setAttribute("fill", "none");
        for (const [name, value] of Object.entries(look)) ring.setAttribute(name, value);
        overlay.append(ring);
      }
    }
    map.setAttribute("aria-label", where ? `Back map, seen from behind: ${where} lit` : "Back map");
  }

  async function loadOverlay(key) {
    overlayKey = key;
    try {
      const response = await fetch(`${api}/step-map.svg`, { headers: { Accept: "image/svg+xml" } });
      if (!response.ok) return;
      const text = await response.text();
      if (key !== overlayKey) return; // the step moved on while this one loaded
      const part = new DOMParser().parseFromString(text, "image/svg+xml").documentElement;
      const map = svg();
      if (!map || part.nodeName !== "svg") return;
      let after = map.querySelector(":scope > .highlight-overlay");
      for (const name of PARTS) {
        const fresh = part.querySelector(`:scope > .${name}`);
        map.querySelector(`:scope > .${name}`)?.remove();
        if (!fresh) continue;
        const node = document.importNode(fresh, true); // drawn by our own renderer, escaped there
        if (name === "live-hand" || !after) map.append(node); // the hand on top of everything
        else after.after(node);
        if (name !== "live-hand") after = node;
      }
      box.dataset.key = key;
      flow(map);
      afterDraw();
    } catch {
      // The stream will bring the next state; the old stroke stays until then.
    }
  }

  function dress() {
    const map = svg();
    if (!map) return;
    map.removeAttribute("width");
    map.removeAttribute("height");
    cropToBody(map);
    const where = box.dataset.where || "";
    map.setAttribute("aria-label", where ? `Back map, seen from behind: ${where} lit` : "Back map");
    litKey = [...map.querySelectorAll(".region.highlight[data-region]")].map((r) => r.dataset.region).join(",");
    flow(map);
    afterDraw();
  }

  // A bright dash runs along each arrow, the way the hands travel.
  function flow(map) {
    const strokes = map.querySelector(".plan-strokes");
    if (!strokes) return;
    for (const arrow of strokes.querySelectorAll(".stroke-arrow")) {
      for (const kind of ["stroke-flow", "stroke-flow-core"]) {
        const dash = arrow.cloneNode(false);
        dash.setAttribute("class", `stroke-flow ${kind}`);
        for (const name of ["marker-end", "stroke", "stroke-width", "data-step", "data-direction"]) {
          dash.removeAttribute(name);
        }
        dash.setAttribute("pathLength", "100");
        dash.setAttribute("aria-hidden", "true");
        strokes.append(dash);
      }
    }
  }

  return { show, dress };
}

// The map is drawn with a caption and a legend; on a phone the body alone is worth the room.
export function cropToBody(map) {
  let box = null;
  for (const part of map.querySelectorAll(".body, .regions, .side-marker")) {
    let b;
    try {
      b = part.getBBox();
    } catch {
      continue;
    }
    if (!b.width || !b.height) continue;
    box = box
      ? {
          x1: Math.min(box.x1, b.x), y1: Math.min(box.y1, b.y),
          x2: Math.max(box.x2, b.x + b.width), y2: Math.max(box.y2, b.y + b.height),
        }
      : { x1: b.x, y1: b.y, x2: b.x + b.width, y2: b.y + b.height };
  }
  if (!box) return;
  const pad = 8;
  const view = [box.x1 - pad, box.y1 - pad, box.x2 - box.x1 + 2 * pad, box.y2 - box.y1 + 2 * pad];
  map.setAttribute("viewBox", view.map((n) => n.toFixed(1)).join(" "));
}
