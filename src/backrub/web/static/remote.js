// The receiver's remote: follows the session's live stream like the giver's page, and sends
// each tap marked `source: "remote"` so the giver's page can say it aloud. It never speaks
// itself: the receiver lies still with eyes closed, and one voice in the room is enough.
import { postChange } from "./live.js";

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
    band: $("#remote-band"), ack: $("#remote-ack"),
  };
  let state = null;
  let source = null;
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
      if (source) source.close();
      for (const button of root.querySelectorAll("button")) button.disabled = true;
      setText(el.ack, next.status === "finished" ? "Finished. Sit for a moment before standing up." : "Session stopped.");
    }
  }

  async function send(kind, extra, label) {
    if (over) return;
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
    if (button.dataset.event) send(button.dataset.event, {}, SENT[button.dataset.event] ?? "Sent");
    else if (button.dataset.value) {
      send("felt", { value: Number(button.dataset.value) }, `Sent ${button.dataset.value} of 10`);
    }
  });

  async function refresh() {
    try {
      const response = await fetch(api, { headers: { Accept: "application/json" } });
      if (response.ok) show(await response.json());
    } catch {
      setText(el.errors, "Cannot reach backrub. Trying again…");
    }
  }

  function follow() {
    if (over) return;
    if (!("EventSource" in window)) {
      setInterval(() => over || refresh(), 2000);
      return;
    }
    source = new EventSource(`${api}/stream`);
    source.addEventListener("state", (event) => {
      try {
        show(JSON.parse(event.data));
      } catch {
        // a broken message: the next one draws the page
      }
    });
    source.addEventListener("error", () => {
      if (over) source.close();
      else if (source.readyState === EventSource.CLOSED) setTimeout(follow, 3000);
    });
  }

  refresh();
  follow();
  window.addEventListener("pagehide", () => source?.close());
}
