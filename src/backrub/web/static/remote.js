// The receiver's remote: follows the session's live stream like the giver's page, and sends
// each tap marked `source: "remote"` so the giver's page can say it aloud. It never speaks
// itself: the receiver lies still with eyes closed, and one voice in the room is enough.
import { postChange } from "./live.js";
import { forgetOffline } from "./offline.js";
import { cropToBody } from "./map.js";
import { followSession } from "./stream.js";

const OVER = new Set(["finished", "stopped"]);
const SENT = {
  less: "Asked for less", more: "Asked for more", pain: "Said ouch", ticklish: "Said ticklish",
  knot: "Said knot here", headache: "Said headache", nausea: "Said nausea",
  pause: "Paused", resume: "Resumed", felt: "Sent",
};

const root = document.getElementById("remote");
if (root) start(root);

function start(root) {
  const $ = (selector) => document.querySelector(selector);
  const api = `/api/sessions/${encodeURIComponent(root.dataset.session)}`;
  const el = {
    status: $("#remote-status"), where: $("#remote-where"), errors: $("#remote-errors"),
    pause: $("#remote-pause"), resume: $("#remote-resume"), felt: $("#remote-felt"),
    band: $("#remote-band"), ack: $("#remote-ack"), ouch: $('#remote [data-event="pain"]'),
    knot: $('#remote [data-event="knot"]'), question: $("#remote-pick-question"),
    pick: $("#remote-pick"), map: $("#remote-map"), region: $("#remote-region"),
    pickSend: $("#remote-pick-send"), pickNone: $("#remote-pick-none"), pickCancel: $("#remote-pick-cancel"),
  };
  const regionNames = new Map([...el.region.options].map((o) => [o.value, o.textContent]));
  let state = null;
  let over = false;

  function setText(node, text) {
    if (node && node.textContent !== text) node.textContent = text;
  }

  function show(next) {
    if (!next || typeof next !== "object" || !("status" in next)) return;
    if (state && next.version < state.version && next.clock <= state.clock) return;
    state = next;
    root.dataset.status = next.status;
    root.dataset.live = "on"; // drawn from the server's state at least once
    setText(el.status, next.status.charAt(0).toUpperCase() + next.status.slice(1));
    el.status.dataset.status = next.status;
    setText(el.where, next.step ? next.step.where : "");
    const paused = next.status === "paused";
    el.pause.hidden = paused;
    el.resume.hidden = !paused;
    if (next.step) {
      const [low, high] = next.step.target_band;
      setText(el.band, `${low} to ${high}`);
      for (const button of el.felt.querySelectorAll("button")) {
        const value = Number(button.dataset.value);
        button.classList.toggle("in-band", low <= value && value <= high);
      }
    }
    if (OVER.has(next.status) && !over) {
      over = true;
      stream.stop();
      stopPicking({ focus: false });
      forgetOffline(); // a worker this device runs for the giver's page keeps no copy of it
      for (const button of root.querySelectorAll("button")) button.disabled = true;
      setText(el.ack, next.status === "finished" ? "Finished. Sit for a moment before standing up." : "Session stopped.");
    }
  }

  async function send(kind, extra, label) {
    if (over) return;
    stopPicking({ focus: false });
    setText(el.errors, "");
    navigator.vibrate?.(15);
    try {
      const body = JSON.stringify({ kind, ...extra, source: "remote" });
      const response = await postChange(`${api}/events`, body);
      const reply = await response.json().catch(() => ({}));
      if (!response.ok) {
        setText(el.errors, reply.error ? `Not sent: ${reply.error}` : `Not sent (the server said ${response.status}).`);
        return;
      }
      show(reply);
      setText(el.ack, `${label}.`);
    } catch {
      setText(el.errors, "Not sent: cannot reach backrub.");
    }
  }

  function flash(button) {
    button.classList.add("sent");
    setTimeout(() => button.classList.remove("sent"), 600);
  }

  root.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button || button.disabled) return;
    flash(button);
    if (button.dataset.event === "pain" || button.dataset.event === "knot") startPicking(button.dataset.event);
    else if (button.dataset.event) send(button.dataset.event, {}, SENT[button.dataset.event] ?? "Sent");
    else if (button.dataset.value) {
      send("felt", { value: Number(button.dataset.value) }, `Sent ${button.dataset.value} of 10`);
    }
  });

  // ---------------------------------------------------------------- after "Ouch": where?
  // Like the giver's page: the spot is optional ("no spot": the engine takes the step's
  // regions). The map is the live one, fetched when first needed, the step's spot lit.

  // Ouch and Knot here both ask where: the same picker, its words for what was pressed.
  const ASK = {
    pain: { question: "Where does it hurt?", none: "Ouch, no spot", said: "Said ouch" },
    knot: { question: "Where is the knot?", none: "Knot, no spot", said: "Said knot here" },
  };
  let picking = false;
  let pickKind = "pain";
  const opener = () => (pickKind === "knot" ? el.knot : el.ouch);
  async function startPicking(kind = "pain") {
    if (over) return;
    if (picking) opener().setAttribute("aria-expanded", "false");
    picking = true;
    pickKind = kind;
    setText(el.question, ASK[kind].question);
    setText(el.pickNone, ASK[kind].none);
    el.pick.hidden = false;
    opener().setAttribute("aria-expanded", "true");
    const here = state?.step?.regions?.find((r) => regionNames.has(r));
    if (here) el.region.value = here;
    el.pick.scrollIntoView({ block: "start" });
    el.pickNone.focus({ preventScroll: true });
    await loadMap();
    markPicked();
  }

  function stopPicking({ focus = true } = {}) {
    if (!picking) return;
    picking = false;
    el.pick.hidden = true;
    opener().setAttribute("aria-expanded", "false");
    if (focus) opener().focus({ preventScroll: true });
  }

  async function loadMap() {
    try {
      const response = await fetch(`${api}/map.svg`, { headers: { Accept: "image/svg+xml" } });
      if (!response.ok) return;
      el.map.innerHTML = await response.text(); // drawn by our own renderer, text escaped there
      const svg = el.map.querySelector("svg");
      svg?.removeAttribute("width");
      svg?.removeAttribute("height");
      svg?.setAttribute("aria-hidden", "true"); // the list below names every spot
      if (svg) cropToBody(svg); // the body alone: its legend's words are too small on a phone
    } catch {
      // no map this time: the list still picks the spot
    }
  }

  function markPicked() {
    for (const shape of el.map.querySelectorAll(".tissue-muscle[data-region]")) {
      shape.classList.toggle("picked", shape.dataset.region === el.region.value);
    }
  }

  function sendSpot(region) {
    send(pickKind, { region }, `${ASK[pickKind].said}: ${regionNames.get(region) || region}`);
  }

  el.map.addEventListener("click", (event) => {
    const shape = event.target.closest("[data-region]");
    if (!picking || !shape) return;
    if (!shape.classList.contains("tissue-muscle")) {
      setText(el.errors, "That is bone or the kidney area: it is never pressed. Tap a muscle, or choose no spot.");
      return;
    }
    el.region.value = shape.dataset.region;
    markPicked();
    sendSpot(shape.dataset.region);
  });
  el.region.addEventListener("change", markPicked);
  el.pickSend.addEventListener("click", () => sendSpot(el.region.value));
  el.pickNone.addEventListener("click", () => send(pickKind, {}, SENT[pickKind]));
  el.pickCancel.addEventListener("click", () => stopPicking());
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && picking) stopPicking();
  });

  const stream = followSession(api, {
    onState: show,
    isOver: () => over,
    onLost: (kind) => kind === "unreachable" && setText(el.errors, "Cannot reach backrub. Trying again…"),
  });

  stream.refresh();
  stream.start();
  window.addEventListener("pagehide", () => stream.stop());
}
