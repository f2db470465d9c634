// The live page's messages: tips from the guide, what the engine made of a press, and why the
// step changed. None of them vanishes: the newest few are on show (newest first), each for at
// least SHOW_MS however fast others come, and every message of this visit is in a list one tap
// away. Spoken words are easy to miss in a room; these stay.

// Cues that only echo a press the engine's own answer (below) already tells in more words.
const ECHOES = new Set(["extend", "extend-refused", "back", "back-refused"]);
const SHOW_MS = 6000;
const FRESH_MS = 2000; // the newest one is marked this long after it came // a message stays on show at least this long
const ON_SHOW = 3; // and the newest this many stay on show until newer ones push them out
const KEEP = 200; // the list keeps this many (a 90-minute session says far fewer)

export class MessageQueue {
  constructor(root, words = {}) {
    this.root = root;
    this.words = words;
    this.started = false;
    this.stepKey = null;
    this.now = root.querySelector("#messages-now");
    this.list = root.querySelector("#messages-list");
    this.count = root.querySelector("#messages-count");
    this.all = root.querySelector("#messages-all");
    this.messages = []; // newest first: { id, text, kind, shownAt }
    this.seen = new Set();
    this.timer = null;
  }

  // Add a message once (`id` names it: a cue's or a reaction's number), newest first.
  push(id, text, kind = "tip") {
    if (!text || this.seen.has(id)) return;
    this.seen.add(id);
    this.messages.unshift({ id, text, kind, shownAt: performance.now() });
    this.messages.length = Math.min(this.messages.length, KEEP);
    this.draw();
  }

  // Take what a new state brings: tips (cues other than the step's own), what the engine made
  // of the newest event (why the step changed, among others) and the step itself when it
  // changed. The first state only marks what was there already: those were said before.
  follow(next) {
    // The newest tip is on show already, just above (#said, drawn by live.js): not twice.
    const cues = next.cues || [];
    const last = cues[cues.length - 1];
    this.inSaid = last && last.key !== "step" ? `cue-${last.number}` : null;
    const step = next.step;
    const key = step ? `${step.id}|${Math.round((next.worked - next.step_elapsed) * 10)}` : null;
    const reaction = next.reaction;
    if (!this.started) {
      this.started = true;
      this.stepKey = key;
      for (const cue of next.cues || []) this.seen.add(`cue-${cue.number}`);
      if (reaction) this.seen.add(`reaction-${reaction.number}`);
      return;
    }
    for (const cue of next.cues || []) {
      if (cue.key !== "step" && !ECHOES.has(cue.key)) this.push(`cue-${cue.number}`, cue.text, "tip");
      else this.seen.add(`cue-${cue.number}`);
    }
    const changed = Boolean(step) && key !== this.stepKey;
    if (changed) {
      const verb = this.words.verbs?.[step.technique] ?? step.technique;
      const side = this.words.sides?.[step.side] ?? step.side;
      this.push(`step-${key}`, `${verb} · ${step.where}, ${side}.`, "step");
    }
    this.stepKey = key;
    if (reaction) {
      const what = `${reaction.words.charAt(0).toUpperCase()}${reaction.words.slice(1)}.`;
      // Pushed last, so it is on top: with a new step, it says why the step changed.
      this.push(`reaction-${reaction.number}`, what, changed ? "why" : "reaction");
    }
    this.draw(); // a tip that left #said comes back on show here
  }

  // On show: the newest ON_SHOW, and any younger than SHOW_MS (a burst stays readable).
  showing() {
    const now = performance.now();
    return this.messages
      .filter((m) => m.id !== this.inSaid)
      .filter((m, index) => index < ON_SHOW || now - m.shownAt < SHOW_MS);
  }

  draw() {
    const showing = this.showing();
    // Drawn again only when something changed: a redraw would restart the newest one's flash.
    const drawn = `${this.messages.length}|${showing.map((m) => m.id).join(",")}`;
    if (drawn === this.drawn) return;
    this.drawn = drawn;
    const now = performance.now();
    this.now.replaceChildren(
      ...showing.map((m, index) => this.item(m, index === 0 && now - m.shownAt < FRESH_MS)),
    );
    this.list.replaceChildren(...this.messages.map((m) => this.item(m, false)));
    this.count.textContent = String(this.messages.length);
    this.root.hidden = this.messages.length === 0;
    this.all.hidden = this.messages.length === 0;
    // Look again when the oldest extra one on show has had its time.
    clearTimeout(this.timer);
    if (showing.length > ON_SHOW) {
      const oldest = Math.min(...showing.slice(ON_SHOW).map((m) => m.shownAt));
      this.timer = setTimeout(() => this.draw(), Math.max(50, oldest + SHOW_MS - performance.now()));
    }
  }

  item(message, fresh) {
    const li = document.createElement("li");
    li.className = `message message-${message.kind}${fresh ? " fresh" : ""}`;
    li.dataset.kind = message.kind;
    li.dataset.id = message.id;
    const label = document.createElement("span");
    label.className = "message-kind";
    label.textContent = LABELS[message.kind] ?? "";
    li.append(label, document.createTextNode(message.text));
    return li;
  }
}

const LABELS = { tip: "Tip", reaction: "Guide", why: "Why", step: "Now" };
