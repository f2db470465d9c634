// The live page's step controls: the countdown before each step change (with a chime and a
// vibration, each switchable and remembered on this device), "+30 s here", "back one step"
// and "repeat the cue", and the small message that answers a press right by the finger that
// pressed (the button, or the dock), instead of a screen away.
//
// The page's own script (live.js) owns the state and the sending; it hands this module a few
// hooks: state() and stepLeft() to read, speak(text) to say a line, flash(node) to mark it.

const COUNTDOWN_S = 5;
const COUNT_EVERY_MS = 100; // finer than the page's clock, so no number is missed at speed
const NEAR_MS = 4500; // how long the answer stays by the finger
const PRESS_FRESH_MS = 6000; // a press older than this no longer anchors the answer
const SETTINGS = { chime: "backrub.chime", vibrate: "backrub.vibrate" };
const KEYS = { e: "#extend", b: "#back-step", a: "#repeat-cue" };

function remembered(name) {
  try {
    return localStorage.getItem(SETTINGS[name]) !== "off";
  } catch {
    return true;
  }
}

function remember(name, on) {
  try {
    localStorage.setItem(SETTINGS[name], on ? "on" : "off");
  } catch {
    // private browsing: the choice lasts as long as the page
  }
}

export function startControls(root, hooks) {
  const $ = (selector) => root.querySelector(selector);
  const el = {
    countdown: $("#countdown"), number: $("#countdown-number"), label: $("#countdown-label"),
    chime: $("#set-chime"), vibrate: $("#set-vibrate"), repeat: $("#repeat-cue"),
    cue: $("#cue"), near: $("#near"), dock: root.querySelector(".dock"),
  };
  const AudioContext = window.AudioContext || window.webkitAudioContext;
  const canVibrate = typeof navigator.vibrate === "function";
  const on = { chime: Boolean(AudioContext) && remembered("chime"), vibrate: canVibrate && remembered("vibrate") };

  // ------------------------------------------------------------ the settings panel

  function setUp(box, name, possible, why) {
    if (!box) return;
    box.checked = on[name];
    box.disabled = !possible;
    if (!possible) box.closest("label")?.setAttribute("title", why);
    box.addEventListener("change", () => {
      on[name] = box.checked;
      remember(name, box.checked);
      if (box.checked && name === "chime") chime(); // a taste of it, and unlocks the sound
      if (box.checked && name === "vibrate") buzz();
    });
  }
  setUp(el.chime, "chime", Boolean(AudioContext), "This browser cannot play sounds.");
  setUp(el.vibrate, "vibrate", canVibrate, "This device cannot vibrate.");

  // ------------------------------------------------------------ chime and vibration

  let audio = null;
  function sound() {
    if (!AudioContext) return null;
    try {
      audio ??= new AudioContext();
      if (audio.state === "suspended") audio.resume().catch(() => {});
      return audio;
    } catch {
      return null;
    }
  }
  // Browsers let a page make sound only after a tap: the first one wakes the sound up.
  document.addEventListener("pointerdown", () => on.chime && sound(), { once: true });

  // Two soft notes, made here (no sound file): loud enough across a room, gone in half a second.
  function chime() {
    const context = on.chime ? sound() : null;
    if (!context) return false;
    try {
      const start = context.currentTime + 0.01;
      for (const [offset, pitch] of [[0, 880], [0.18, 1175]]) {
        const tone = context.createOscillator();
        const level = context.createGain();
        tone.type = "sine";
        tone.frequency.value = pitch;
        level.gain.setValueAtTime(0.0001, start + offset);
        level.gain.exponentialRampToValueAtTime(0.25, start + offset + 0.02);
        level.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.3);
        tone.connect(level).connect(context.destination);
        tone.start(start + offset);
        tone.stop(start + offset + 0.32);
      }
      count("chimes");
      return true;
    } catch {
      return false;
    }
  }

  function buzz() {
    if (!on.vibrate || !canVibrate) return false;
    try {
      navigator.vibrate([70, 60, 70]);
      count("buzzes");
      return true;
    } catch {
      return false;
    }
  }

  // How many times each was given, on the countdown (what the browser tests read).
  function count(what) {
    el.countdown.dataset[what] = String(Number(el.countdown.dataset[what] || 0) + 1);
  }

  // ------------------------------------------------------------ the countdown

  let warnedFor = null;
  function countdown() {
    const state = hooks.state();
    const left = hooks.stepLeft();
    const showing = Boolean(state?.step) && state.status === "running" && left > 0 && left <= COUNTDOWN_S;
    if (!showing) {
      if (!el.countdown.hidden) el.countdown.hidden = true;
      return;
    }
    const number = String(Math.min(COUNTDOWN_S, Math.ceil(left - 1e-6)));
    if (el.number.textContent !== number) el.number.textContent = number;
    const label = state.next_step ? "Next step in" : "The end in";
    if (el.label.textContent !== label) el.label.textContent = label;
    el.countdown.hidden = false;
    // Once for each step as it is done (its start on the work clock tells a redone step apart).
    const step = `${state.step.id}|${state.step.seconds}|${Math.round(state.worked - state.step_elapsed)}`;
    if (warnedFor !== step) {
      warnedFor = step;
      chime();
      buzz();
    }
  }
  setInterval(countdown, COUNT_EVERY_MS);

  // ------------------------------------------------------------ repeat the cue

  // Shows the cue again, in view and marked, and says it once more; no event is sent.
  function repeatCue() {
    const step = hooks.state()?.step;
    const text = step ? step.cue : el.cue.textContent;
    el.cue.scrollIntoView({ block: "nearest", behavior: "smooth" });
    hooks.flash(el.cue);
    hooks.speak(text);
    near(`Again: ${text}`);
  }
  el.repeat.addEventListener("click", repeatCue);

  // ------------------------------------------------------------ answers by the finger

  let pressed = null;
  let pressedAt = 0;
  let stepAtPress = null;
  root.addEventListener(
    "click",
    (event) => {
      const button = event.target.closest("button");
      if (!button) return;
      pressed = button;
      pressedAt = performance.now();
      stepAtPress = hooks.state()?.step?.id ?? null;
    },
    true,
  );

  function onScreen(node) {
    if (!node || node.hidden || !node.isConnected) return false;
    const box = node.getBoundingClientRect();
    return box.width > 0 && box.bottom > 0 && box.top < window.innerHeight;
  }

  // The answer to a press (what the engine did, the new pressure or step), by the button just
  // pressed. By the dock (a press there, a keyboard shortcut, the receiver's remote) the
  // page's own answer line (#ack) is already where the finger is: no second copy.
  function near(message) {
    if (!message || !el.near) return;
    const fresh = pressed && performance.now() - pressedAt < PRESS_FRESH_MS;
    const anchor = fresh && onScreen(pressed) && !el.dock?.contains(pressed) ? pressed : null;
    clearTimeout(near.timer);
    if (!anchor) {
      hideNear();
      return;
    }
    let text = message;
    const step = hooks.state()?.step;
    if (step && stepAtPress && step.id !== stepAtPress && !text.includes(step.where)) {
      text += ` Now: ${step.where}.`;
    }
    el.near.textContent = text;
    el.near.hidden = false;
    el.near.dataset.anchor = anchor.id || anchor.dataset.event || anchor.dataset.value || "button";
    root.classList.add("answer-near"); // the line by the dock steps aside (screen readers keep it)
    place(el.near, anchor);
    near.timer = setTimeout(hideNear, NEAR_MS);
    anchored = anchor;
  }

  // The answer goes with its button as the page scrolls, and away when the button does.
  let anchored = null;
  window.addEventListener(
    "scroll",
    () => {
      if (el.near.hidden || !anchored) return;
      if (onScreen(anchored)) place(el.near, anchored);
      else hideNear();
    },
    { passive: true },
  );

  function hideNear() {
    el.near.hidden = true;
    root.classList.remove("answer-near");
  }

  function place(bubble, anchor) {
    const gap = 8;
    const box = anchor.getBoundingClientRect();
    const own = bubble.getBoundingClientRect();
    let top = box.top - own.height - gap;
    if (top < gap) top = box.bottom + gap;
    const width = document.documentElement.clientWidth;
    const left = Math.min(Math.max(gap, box.left + box.width / 2 - own.width / 2), width - own.width - gap);
    bubble.style.top = `${Math.round(top)}px`;
    bubble.style.left = `${Math.round(Math.max(gap, left))}px`;
  }

  // ------------------------------------------------------------ keyboard

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target instanceof Element ? event.target : document.body;
    if (target.closest("input, select, textarea, [contenteditable], dialog")) return;
    const button = KEYS[event.key.toLowerCase()] && root.querySelector(KEYS[event.key.toLowerCase()]);
    if (!button || button.disabled) return;
    event.preventDefault();
    button.click();
  });

  return { near, repeatCue };
}
