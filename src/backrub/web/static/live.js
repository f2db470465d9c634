// The live session page: follows the session's stream, counts the clocks down between updates,
// speaks each cue once, animates the stroke on the map and sends the feedback buttons.
// Every device on the session draws itself from every state it receives (stream or reply),
// so a phone and a tablet on one session always show the same thing.

import { forgetOffline, keepOffline } from "./offline.js";
import { followSession } from "./stream.js";
import { liveMap } from "./map.js";
import { voiceSettings } from "./voice.js";
import { startControls } from "./controls.js";
import { MessageQueue } from "./queue.js";

const OVER = new Set(["finished", "stopped"]);
const TICK_MS = 250;
const OFFLINE_RETRY_S = 5; // no server reached: try the kept presses again this often
const SUMMARY_AFTER_MS = 4000;
const VOICE_KEY = "backrub.voice";
const KEYS = {
  m: "more", l: "less", t: "ticklish", o: "pain", h: "headache", n: "nausea", c: "cough",
  s: "still-tight", r: "released", y: "accept-elbow", d: "decline-elbow", j: "skip",
};
const SAID = {
  more: "More pressure", less: "Less pressure", pain: "Ouch", ticklish: "Ticklish",
  headache: "Headache", nausea: "Nausea", cough: "Cough", knot: "Knot", "still-tight": "Still tight",
  released: "Released", "accept-elbow": "Elbow yes", "decline-elbow": "Elbow no", felt: "Felt",
  skip: "Skip", pause: "Pause", resume: "Resume", stop: "Stop",
  extend: "+30 s here", back: "Back one step",
};

// What the receiver asked for from the remote, as the giver's page shows and says it.
const RECEIVER = {
  more: "a bit more", less: "a bit less", pain: "ouch, it hurts", ticklish: "ticklish",
  knot: "a knot here", headache: "a headache", nausea: "feeling sick", pause: "pause, please",
  resume: "go on", felt: "it feels like",
};

const root = document.getElementById("live");
if (root) start(root);

// Headers for a request that changes something: the page carries the CSRF token in
// <meta name="csrf-token"> (the log-in's on a hosted server, the server's own locally).
function changeHeaders() {
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  const token = document.querySelector('meta[name="csrf-token"]')?.content;
  if (token) headers["X-CSRF-Token"] = token;
  return headers;
}

// A press's own id: 32 random hex digits. Not crypto.randomUUID(): that needs a secure context,
// and a phone on the household's Wi-Fi reaches a local server over plain http.
function pressId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

// POST a change. A local server makes a new token when it restarts: refused for that (403,
// naming the CSRF token), the page takes the new one from /api/token and sends once more.
export async function postChange(url, body) {
  const send = () => fetch(url, { method: "POST", headers: changeHeaders(), body });
  const response = await send();
  if (response.status !== 403) return response;
  const refusal = await response.clone().json().catch(() => ({}));
  if (!String(refusal.error || "").includes("CSRF token")) return response;
  const fresh = await fetch("/api/token", { headers: { Accept: "application/json" } });
  const token = fresh.ok ? (await fresh.json()).csrf_token : null;
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (!token || !meta || token === meta.content) return response;
  meta.content = token;
  return send();
}

function start(root) {
  const $ = (selector) => document.querySelector(selector);
  const sessionId = root.dataset.session;
  const api = `/api/sessions/${encodeURIComponent(sessionId)}`;
  const summaryUrl = `/session/${encodeURIComponent(sessionId)}/summary`;
  const words = JSON.parse(root.dataset.words || "{}");
  const el = {
    status: $("#status"), sessionLeft: $("#session-left"), progress: $("#progress"),
    mute: $("#mute"), receiver: $("#receiver"), voiceHint: $("#voice-hint"), connection: $("#connection"), errors: $("#errors"),
    phase: $("#phase"), where: $("#where"), side: $("#side"), cue: $("#cue"),
    contact: $("#contact"), contactUse: $("#contact use"), contactName: $("#contact-name"),
    pressure: $("#pressure"), pressureLevel: $("#pressure-level"), pressureWord: $("#pressure-word"),
    picture: $("#picture"), pressureLike: $("#pressure-like"),
    stepLeft: $("#step-left"), stepProgress: $("#step-progress"), verb: $("#verb"),
    direction: $("#direction"), howText: $("#how-text"), said: $("#said"), elbow: $("#elbow"),
    map: $("#map"), pickPrompt: $("#pick-prompt"), pickRegion: $("#pick-region"),
    pickSend: $("#pick-send"), pickCancel: $("#pick-cancel"), knotHere: $("#knot-here"),
    pickNone: $("#pick-none"), pickQuestion: $("#pick-question"), offline: $("#offline"),
    knotState: $("#knot-state"), next: $("#next-step"), felt: $("#felt"), band: $("#band"),
    pause: $("#pause"), resume: $("#resume"), stop: $("#stop"), stopDialog: $("#stop-dialog"),
    stopCancel: $("#stop-cancel"), over: $("#over"), overTitle: $("#over-title"), ack: $("#ack"),
  };
  const regionNames = new Map([...el.pickRegion.options].map((o) => [o.value, o.textContent]));

  let state = null;
  let receivedAt = performance.now();
  let picking = false;
  let pickKind = "knot"; // what a picked spot is sent as: "knot", or "pain" after Ouch
  let over = false;
  let leaving = null;
  // The step controls (countdown, +30 s, back, repeat) and the message queue (controls.js,
  // queue.js): they read the state through these hooks.
  const messages = new MessageQueue($("#messages"), words);
  const controls = startControls(root, {
    state: () => state,
    stepLeft: () => stepLeftNow(),
    speak: (text) => speak(text),
    flash: (node) => flash(node),
  });

  // ---------------------------------------------------------------- drawing a state

  function setText(node, text) {
    if (node && node.textContent !== text) node.textContent = text;
  }

  function clock(seconds) {
    const total = Math.max(0, Math.round(seconds));
    return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, "0")}`;
  }

  function stepLine(step) {
    if (!step) return "Nothing after this: it is the last step.";
    const verb = words.verbs?.[step.technique] ?? step.technique;
    const side = words.sides?.[step.side] ?? step.side;
    return `${verb} · ${step.where}, ${side} · ${step.contact_name.toLowerCase()} · ${clock(step.seconds)}`;
  }

  function newer(next) {
    if (!state) return true;
    if (next.session !== state.session) return false;
    // Replies and stream messages may cross; a lower version is older, unless the server
    // restarted (versions start again) and its clock has moved on.
    return next.version >= state.version || next.clock > state.clock;
  }

  function show(next) {
    if (!next || typeof next !== "object" || !("status" in next) || !newer(next)) return;
    const before = state;
    state = next;
    receivedAt = performance.now();
    root.dataset.status = next.status;
    root.dataset.version = String(next.version);
    root.dataset.live = "on"; // drawn from the server's state at least once

    setText(el.status, next.status.charAt(0).toUpperCase() + next.status.slice(1));
    el.status.dataset.status = next.status;
    const paused = next.status === "paused";
    const focused = document.activeElement;
    el.pause.hidden = paused;
    el.resume.hidden = !paused;
    // The pause button turns into resume: the keyboard's focus goes with it.
    if (paused && focused === el.pause) el.resume.focus();
    if (!paused && focused === el.resume) el.pause.focus();

    const step = next.step;
    if (step) {
      setText(el.phase, words.phases?.[step.phase] ?? step.phase);
      setText(el.where, step.where);
      setText(el.side, words.sides?.[step.side] ?? step.side);
      setText(el.cue, step.cue);
      setText(el.verb, words.verbs?.[step.technique] ?? step.technique);
      setText(el.direction, words.directions?.[step.direction] ?? step.direction);
      setText(el.howText, step.how);
      if (el.contact.dataset.contact !== step.contact) {
        el.contact.dataset.contact = step.contact;
        el.contactUse.setAttribute("href", `#icon-${step.contact}`);
        if (before) flash(el.contact);
      }
      setText(el.contactName, step.contact_name);
      if (el.pressure.dataset.level !== String(step.pressure)) {
        el.pressure.dataset.level = String(step.pressure);
        if (before) flash(el.pressure);
      }
      setText(el.pressureLevel, String(step.pressure));
      setText(el.pressureWord, step.pressure_word);
      setText(el.pressureLike, `like ${step.pressure_like}`);
      // Only on a new picture: setting the same src again would restart its animation.
      if (el.picture.getAttribute("src") !== step.picture) {
        el.picture.src = step.picture;
        el.picture.alt = step.picture_caption;
      }
      el.picture.hidden = false;
      showBand(step.target_band);
    } else {
      setText(el.cue, OVER.has(next.status) ? "All done." : "Getting ready…");
    }
    setText(el.next, stepLine(next.next_step));
    // The next step's picture, fetched now and kept a year: the step change downloads none.
    const coming = next.next_step?.picture;
    if (coming && el.picture.dataset.next !== coming) {
      el.picture.dataset.next = coming;
      new Image().src = coming;
    }
    el.elbow.hidden = !next.asking_elbow;
    showKnot(next);
    showSaid(next);
    map.show(next);
    messages.follow(next);
    speakNew(next);
    showReceiver(next, before);
    tick();
    if (OVER.has(next.status)) finish(next);
    else keepAwake();
  }

  function flash(node) {
    node.classList.remove("changed");
    void node.offsetWidth; // restart the animation
    node.classList.add("changed");
  }

  function showBand([low, high]) {
    if (el.felt.dataset.low === String(low) && el.felt.dataset.high === String(high)) return;
    el.felt.dataset.low = String(low);
    el.felt.dataset.high = String(high);
    for (const button of el.felt.querySelectorAll("button[data-value]")) {
      const value = Number(button.dataset.value);
      const inside = value >= low && value <= high;
      button.classList.toggle("in-band", inside);
      const word = button.dataset.word ? `, ${button.dataset.word}` : "";
      button.setAttribute("aria-label", `${value}${word}${inside ? ", in the target" : ""}`);
    }
    setText(el.band, `${low} to ${high}`);
  }

  function showKnot(next) {
    const region = next.knot_region || "";
    el.knotState.dataset.region = region;
    el.knotState.classList.toggle("active", Boolean(region));
    if (!region) {
      const waiting = (next.waiting_knots || []).map((id) => regionNames.get(id) || id);
      setText(
        el.knotState,
        waiting.length
          ? `Knot noted: ${waiting.join(", ")}. Worked after the warm-up.`
          : "No knot being worked.",
      );
      return;
    }
    const name = regionNames.get(region) || region;
    const rung = next.step ? next.step.knot_rung : null;
    setText(
      el.knotState,
      rung == null
        ? `After the knot on ${name}: gentle now.`
        : `Working a knot: ${name}, stage ${rung}. Still tight, or released?`,
    );
  }

  function showSaid(next) {
    const cues = next.cues || [];
    const last = cues[cues.length - 1];
    // The step's own cue is on show already; anything said after it goes here.
    const said = last && last.key !== "step" ? last : null;
    if (!said) {
      delete el.said.dataset.number;
      setText(el.said, "");
    } else if (el.said.dataset.number !== String(said.number)) {
      el.said.dataset.number = String(said.number);
      setText(el.said, said.text);
      el.said.classList.remove("fresh");
      void el.said.offsetWidth;
      el.said.classList.add("fresh");
    }
  }

  // The step's time left now, counted on from the last update (for the countdown).
  function stepLeftNow() {
    if (!state) return 0;
    const running = state.status === "running";
    const passed = running ? ((performance.now() - receivedAt) / 1000) * (state.speed || 1) : 0;
    return Math.max(0, state.step_left - passed);
  }

  // Between updates the page runs the clocks itself, at the session's speed.
  function tick() {
    if (!state) return;
    const running = state.status === "running";
    const passed = running ? ((performance.now() - receivedAt) / 1000) * (state.speed || 1) : 0;
    const stepLeft = Math.max(0, state.step_left - passed);
    setText(el.stepLeft, clock(stepLeft));
    setText(el.sessionLeft, clock(Math.max(0, state.session_left - passed)));
    const progress = state.budget
      ? Math.min(1, (state.worked + passed) / state.budget)
      : OVER.has(state.status) ? 1 : 0;
    el.progress.value = progress;
    setText(el.progress, `${Math.round(progress * 100)}%`);
    const seconds = state.step ? state.step.seconds : 0;
    const done = seconds ? Math.min(1, Math.max(0, 1 - stepLeft / seconds)) : 0;
    el.stepProgress.style.width = `${(done * 100).toFixed(1)}%`;
  }

  // ---------------------------------------------------------------- the map (map.js)

  const map = liveMap(el.map, { api, afterDraw: () => picking && markPickable() });

  // ---------------------------------------------------------------- knot here, ouch: pick a spot

  function markPickable() {
    for (const shape of el.map.querySelectorAll(".tissue-muscle[data-region]")) {
      shape.classList.toggle("picked", shape.dataset.region === el.pickRegion.value);
    }
  }

  // Ouch asks where it hurts, like "Knot here": a spot is optional (without one, the engine
  // takes every region of the step).
  function startPicking(kind = "knot") {
    if (over) return;
    if (picking) stopPicking({ focus: false });
    picking = true;
    pickKind = kind;
    root.classList.add("picking");
    setText(el.pickQuestion, kind === "pain" ? "Where does it hurt?" : "Where is the knot?");
    el.pickNone.hidden = kind !== "pain";
    el.pickPrompt.hidden = false;
    el.knotHere.setAttribute("aria-expanded", String(kind === "knot"));
    const here = state?.step?.regions?.find((r) => regionNames.has(r));
    if (here) el.pickRegion.value = here;
    markPickable();
    el.pickPrompt.closest("section").scrollIntoView({ block: "start" });
    (kind === "pain" ? el.pickNone : el.pickRegion).focus({ preventScroll: true });
  }

  function stopPicking({ focus = true } = {}) {
    if (!picking) return;
    picking = false;
    root.classList.remove("picking");
    el.pickPrompt.hidden = true;
    el.knotHere.setAttribute("aria-expanded", "false");
    for (const shape of el.map.querySelectorAll(".picked")) shape.classList.remove("picked");
    const opener = pickKind === "pain" ? root.querySelector('.dock [data-event="pain"]') : el.knotHere;
    if (focus) opener?.focus({ preventScroll: true });
  }

  async function sendPicked(region) {
    const kind = pickKind;
    stopPicking();
    const name = regionNames.get(region) || region;
    const what = kind === "pain" ? "Ouch" : "Knot";
    const before = reactionNumber();
    if (await send(kind, { region })) say(answer(kind, before, `${what} sent: ${name}`));
  }

  el.knotHere.addEventListener("click", () =>
    picking && pickKind === "knot" ? stopPicking() : startPicking("knot"));
  el.pickCancel.addEventListener("click", () => stopPicking());
  el.pickSend.addEventListener("click", () => sendPicked(el.pickRegion.value));
  el.pickNone.addEventListener("click", () => {
    stopPicking({ focus: false });
    const before = reactionNumber();
    send("pain").then((ok) => ok && say(answer("pain", before, "Sent: Ouch.")));
  });
  el.pickRegion.addEventListener("change", markPickable);
  el.map.addEventListener("click", (event) => {
    if (!picking) return;
    const shape = event.target.closest("[data-region]");
    if (!shape) return;
    if (!shape.classList.contains("tissue-muscle")) {
      showError("That spot is bone or a kidney zone: it is never pressed. Tap a muscle instead.");
      return;
    }
    el.pickRegion.value = shape.dataset.region;
    markPickable();
    sendPicked(shape.dataset.region);
  });

  // ---------------------------------------------------------------- sending feedback

  function showError(message) {
    el.errors.textContent = message;
    clearTimeout(showError.timer);
    if (message) showError.timer = setTimeout(() => showError(""), 8000);
  }
  el.errors.addEventListener("click", () => showError(""));

  // What the engine made of the last press: its reaction when one came after `before` (the
  // reaction number seen when the press was made), else plain "Sent". A press that changed
  // nothing ("no knot being worked") is told so instead of looking like it worked.
  function reactionNumber() {
    return state?.reaction?.number ?? -1;
  }
  function answer(kind, before, sent) {
    const reaction = state?.reaction;
    if (reaction && reaction.number > before && reaction.event === kind) {
      return `${sent} ${reaction.words.charAt(0).toUpperCase()}${reaction.words.slice(1)}.`;
    }
    return sent;
  }

  function say(message) {
    // A short note in the polite region, so a tap is answered even when nothing else changes.
    setText(el.ack, message);
    controls.near(message); // and right by the finger that pressed
    clearTimeout(say.timer);
    say.timer = setTimeout(() => setText(el.ack, ""), 2500);
  }

  // Presses the server could not take wait here, in order, each with the device's time of the
  // press: those it could not save (503: its database is away for a moment) go again after the
  // Retry-After it gave; those that reached no server (the Wi-Fi dropped) go once the
  // connection is back. A press made meanwhile queues behind; the server logs each at the time
  // it was pressed (device_time, docs/web-api.md). Each press has its own id, made here when it
  // is pressed and sent with every try of it: a try whose reply never came back may have been
  // stored, and the server logs a press once however often its id arrives.
  const waiting = [];
  let retryAfter = 3;
  let retrying = null;
  let offline = false; // the last try reached no server

  async function send(kind, extra = {}) {
    if (over && kind !== "stop") {
      showError("The session is over: nothing more to send.");
      return false;
    }
    showError("");
    navigator.vibrate?.(15);
    const pressedAt = Date.now();
    const id = pressId();
    const outcome = waiting.length ? "later" : await post(kind, extra, null, id);
    if (outcome === "later") {
      waiting.push([kind, extra, pressedAt, id]);
      notSaved();
    }
    return outcome === "sent";
  }

  // One try: "sent", "later" (503 or no server; retryAfter set) or "failed" (the error is
  // shown). A kept press carries when it was pressed and the device's clock now.
  async function post(kind, extra, pressedAt, id) {
    const kept = pressedAt === null ? {} : { device_time: pressedAt, device_now: Date.now() };
    try {
      const sent = JSON.stringify({ kind, ...extra, ...kept, press_id: id });
      const response = await postChange(`${api}/events`, sent);
      const body = await response.json().catch(() => ({}));
      showOffline(false);
      if (response.status === 503) {
        retryAfter = Math.max(1, Number(response.headers.get("Retry-After")) || 3);
        return "later";
      }
      if (!response.ok) {
        showError(body.error ? `Not sent: ${body.error}` : `Not sent (the server said ${response.status}).`);
        if (response.status === 409) refresh();
        return "failed";
      }
      show(body);
      return "sent";
    } catch {
      retryAfter = OFFLINE_RETRY_S;
      showOffline(true);
      return "later";
    }
  }

  function notSaved() {
    clearTimeout(retrying);
    retrying = setTimeout(sendWaiting, retryAfter * 1000);
    if (offline) {
      showOffline(true);
      return;
    }
    const kept = waiting.length === 1 ? "It is kept" : `${waiting.length} presses are kept`;
    showError(`Not saved, try again: the server cannot save just now. ${kept} and sent again in ${retryAfter} s.`);
  }

  // Offline: said at the top of the screen, with the count of presses waiting.
  function showOffline(now) {
    offline = now;
    el.offline.hidden = !offline;
    el.offline.dataset.waiting = String(waiting.length);
    const count = waiting.length;
    const presses = count === 0 ? "Presses made now wait here and go"
      : count === 1 ? "1 press waits and goes" : `${count} presses wait and go`;
    const where = navigator.onLine === false ? "Offline" : "No connection to backrub";
    setText(el.offline, `${where}: the guide goes on. ${presses} when the connection is back.`);
  }

  // One pass over the kept presses at a time: a timer and the network coming back may both
  // ask; the second waits for the pass under way.
  let flushing = null;
  function sendWaiting() {
    flushing ??= flush().finally(() => {
      flushing = null;
    });
    return flushing;
  }

  async function flush() {
    clearTimeout(retrying);
    while (waiting.length && !over) {
      const [kind, extra, pressedAt, id] = waiting[0];
      const outcome = await post(kind, extra, pressedAt, id);
      if (outcome === "later") return notSaved();
      waiting.shift();
      if (offline) showOffline(true);
      if (outcome !== "sent") continue;
      showError("");
      say(`Sent now: ${SAID[kind] || kind}.`);
    }
    waiting.length = 0; // the session ended meanwhile: nothing more to send
  }

  // The browser says when the network goes and comes back: the stream is closed meanwhile,
  // and opened again only after the kept presses went, so each is logged when it was pressed
  // (a stream's first look runs the session's clock up to now).
  window.addEventListener("offline", () => {
    stream.stop();
    showOffline(true);
  });
  window.addEventListener("online", async () => {
    await sendWaiting();
    if (!waiting.length) showOffline(false);
    if (!over) {
      refresh();
      stream.start();
    }
  });

  function pressed(button) {
    button.classList.add("sent");
    setTimeout(() => button.classList.remove("sent"), 500);
  }

  root.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-event]");
    if (!button || button.disabled) return;
    const kind = button.dataset.event;
    pressed(button);
    if (kind === "pain") {
      startPicking("pain");
      return;
    }
    if (kind === "stop" && el.stopDialog.open) closeDialog();
    const before = reactionNumber();
    send(kind).then((ok) => ok && say(answer(kind, before, `Sent: ${SAID[kind] || kind}.`)));
  });
  el.felt.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-value]");
    if (!button) return;
    pressed(button);
    sendFelt(Number(button.dataset.value));
  });

  function sendFelt(value) {
    send("felt", { value }).then((ok) => ok && say(`Sent: feels ${value} of 10.`));
  }

  // ---------------------------------------------------------------- stop, with a question first

  function openStop() {
    if (over) return;
    stopPicking({ focus: false });
    if (typeof el.stopDialog.showModal === "function") el.stopDialog.showModal();
    else el.stopDialog.setAttribute("open", "");
    el.stopCancel.focus();
  }
  function closeDialog() {
    if (typeof el.stopDialog.close === "function") el.stopDialog.close();
    else el.stopDialog.removeAttribute("open");
  }
  el.stop.addEventListener("click", openStop);
  el.stopCancel.addEventListener("click", () => {
    closeDialog();
    el.stop.focus();
  });

  // ---------------------------------------------------------------- keyboard

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target instanceof Element ? event.target : document.body;
    if (event.key === "Escape" && picking) {
      event.preventDefault();
      stopPicking();
      return;
    }
    if (target.closest("input, select, textarea, [contenteditable], dialog")) return;
    if (event.key === " " || event.key === "Spacebar") {
      if (target.closest("button, a, summary")) return; // space presses what has focus
      event.preventDefault();
      if (!over && state) send(state.status === "paused" ? "resume" : "pause");
      return;
    }
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    if (/^[0-9]$/.test(key)) sendFelt(Number(key));
    else if (key === "+") sendFelt(10);
    else if (key === "k") startPicking("knot");
    else if (KEYS[key] === "pain") startPicking("pain");
    else if (key === "q") openStop();
    else if (key === "v") toggleVoice();
    else if (key === "?") $("#shortcuts").open = !$("#shortcuts").open;
    else if (KEYS[key]) {
      const button = root.querySelector(`button[data-event="${KEYS[key]}"]`);
      if (button) pressed(button);
      const before = reactionNumber();
      send(KEYS[key]).then((ok) => ok && say(answer(KEYS[key], before, `Sent: ${SAID[KEYS[key]]}.`)));
    } else return;
    event.preventDefault();
  });

  // ---------------------------------------------------------------- the voice

  const synth = "speechSynthesis" in window && "SpeechSynthesisUtterance" in window
    ? window.speechSynthesis
    : null;
  let voiceOn = readVoice();
  const dressVoice = voiceSettings({
    synth, lang: document.documentElement.lang || "en", sample: "Press flat palms down the back.",
  });
  let blocked = null; // a cue the browser would not say before the first tap
  const spokenKey = `backrub.spoken.${sessionId}`;
  let spokenUpTo = readSpoken();

  function readVoice() {
    try {
      return localStorage.getItem(VOICE_KEY) !== "off";
    } catch {
      return true;
    }
  }
  function readSpoken() {
    try {
      const value = sessionStorage.getItem(spokenKey);
      return value === null ? null : Number(value);
    } catch {
      return null;
    }
  }

  function showVoice() {
    if (!synth) {
      el.mute.disabled = true;
      el.mute.dataset.voice = "none";
      el.mute.title = "This browser cannot speak; read the cues on the screen.";
      setText($("#mute-label"), "No voice");
      return;
    }
    el.mute.dataset.voice = voiceOn ? "on" : "off";
    el.mute.setAttribute("aria-pressed", voiceOn ? "false" : "true");
    setText($("#mute-label"), voiceOn ? "Mute" : "Muted");
  }

  function toggleVoice() {
    if (!synth) return;
    voiceOn = !voiceOn;
    try {
      localStorage.setItem(VOICE_KEY, voiceOn ? "on" : "off");
    } catch {
      // private browsing: the choice lasts as long as the page
    }
    if (!voiceOn) {
      synth.cancel();
      blocked = null;
      el.voiceHint.hidden = true;
    }
    showVoice();
    say(voiceOn ? "Voice on." : "Voice off.");
  }
  el.mute.addEventListener("click", toggleVoice);

  function speak(text) {
    if (!synth || !voiceOn) return;
    try {
      const utterance = new SpeechSynthesisUtterance(text);
      utterance.lang = document.documentElement.lang || "en";
      dressVoice(utterance); // the voice, speed and volume chosen on this device
      utterance.addEventListener("error", (event) => {
        if (event.error === "not-allowed") {
          blocked = text;
          el.voiceHint.hidden = false;
        }
      });
      synth.speak(utterance);
    } catch {
      // no voice after all: the cues are on the screen
    }
  }

  // A press from the receiver's remote, shown large and said aloud once (not one that was
  // already there when this page loaded).
  let receiverSeen = null;
  function showReceiver(next, before) {
    const press = next.press;
    if (!press || press.source !== "remote") return;
    const first = receiverSeen === null && !before;
    if (receiverSeen !== null && press.seq <= receiverSeen) return;
    receiverSeen = press.seq;
    if (first) return;
    let what = RECEIVER[press.kind] ?? press.kind;
    if (press.kind === "felt") what = `${what} ${press.value} of 10`;
    const line = `Receiver: ${what}`;
    setText(el.receiver, line);
    el.receiver.hidden = false;
    flash(el.receiver);
    say(line); // also by the dock, where the giver's finger is
    speak(line);
  }

  function speakNew(next) {
    const cues = next.cues || [];
    if (!cues.length) return;
    let fresh;
    if (spokenUpTo === null) {
      // First look at this session from this tab: say what was said in the last few seconds.
      const since = next.clock - 10 * (next.speed || 1);
      fresh = cues.filter((cue) => cue.at >= since);
    } else {
      fresh = cues.filter((cue) => cue.number > spokenUpTo);
    }
    spokenUpTo = Math.max(spokenUpTo ?? -1, ...cues.map((cue) => cue.number));
    try {
      sessionStorage.setItem(spokenKey, String(spokenUpTo));
    } catch {
      // remembered for this page only
    }
    for (const cue of fresh.slice(-3)) speak(cue.text);
  }

  function unblock() {
    if (blocked && voiceOn) {
      const text = blocked;
      blocked = null;
      speak(text);
    }
    el.voiceHint.hidden = true;
  }
  document.addEventListener("pointerdown", unblock);
  document.addEventListener("keydown", unblock);

  // ---------------------------------------------------------------- the screen stays on

  let lock = null;
  let asking = false;
  async function keepAwake() {
    if (over || lock || asking || !("wakeLock" in navigator)) return;
    if (document.visibilityState !== "visible") return;
    asking = true;
    try {
      lock = await navigator.wakeLock.request("screen");
      lock.addEventListener("release", () => {
        lock = null;
      });
      if (over) letSleep();
    } catch {
      lock = null; // not allowed here (battery saver, no HTTPS on a LAN): the screen may dim
    } finally {
      asking = false;
    }
  }
  function letSleep() {
    if (lock) lock.release().catch(() => {});
    lock = null;
  }
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") {
      keepAwake();
      refresh();
    }
  });

  // ---------------------------------------------------------------- the end

  function finish(next) {
    if (over) return;
    over = true;
    root.classList.add("over-now");
    document.body.classList.add("over-now");
    stopPicking({ focus: false });
    if (el.stopDialog.open) closeDialog();
    letSleep();
    stream.stop();
    forgetOffline();
    for (const button of root.querySelectorAll("button[data-event], button[data-value], #knot-here, #stop")) {
      button.disabled = true;
    }
    setText(el.overTitle, next.status === "finished" ? "Finished" : "Session stopped");
    el.over.hidden = false;
    el.over.scrollIntoView({ block: "center" });
    leaving = setTimeout(() => window.location.assign(summaryUrl), SUMMARY_AFTER_MS);
  }

  // ---------------------------------------------------------------- following the session

  const stream = followSession(api, {
    onState: show,
    isOver: () => over,
    onLost: (kind) => {
      el.connection.dataset.lost = "1";
      setText(el.connection, kind === "stream" ? "Connection lost. Trying again…" : "Cannot reach backrub. Trying again…");
    },
    onBack: () => {
      delete el.connection.dataset.lost;
      setText(el.connection, "");
    },
    onMissing: () => showError("This session is no longer on the server."),
  });
  const refresh = stream.refresh;

  showVoice();
  map.dress();
  setInterval(tick, TICK_MS);
  refresh();
  stream.start();
  keepAwake();
  keepOffline();
  window.addEventListener("pagehide", () => {
    stream.stop();
    if (leaving) clearTimeout(leaving);
  });
}
