// The giver's voice: which of the device's voices says the cues, how fast and how loud. Chosen
// in a small settings panel on the live page and remembered on this device. Only the giver's
// page speaks; the receiver's remote never loads this.

const KEY = "backrub.voice-settings";
const RATE = { min: 0.6, max: 1.6, normal: 1 };

function read() {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) || "{}");
    return saved && typeof saved === "object" ? saved : {};
  } catch {
    return {};
  }
}

function clamp(value, low, high, otherwise) {
  const number = Number(value);
  return Number.isFinite(number) ? Math.min(high, Math.max(low, number)) : otherwise;
}

// `synth` is window.speechSynthesis (or null), `lang` the page's language, `sample` a line to
// try the voice with. Returns `apply(utterance)`, which dresses an utterance as chosen.
export function voiceSettings({ synth, lang, sample }) {
  const panel = document.getElementById("voice-settings");
  const choice = document.getElementById("voice-choice");
  const rate = document.getElementById("voice-rate");
  const volume = document.getElementById("voice-volume");
  const tryIt = document.getElementById("voice-try");
  let settings = read();

  const chosen = () => ({
    voice: typeof settings.voice === "string" ? settings.voice : "",
    rate: clamp(settings.rate, RATE.min, RATE.max, RATE.normal),
    volume: clamp(settings.volume, 0, 1, 1),
  });

  function save() {
    try {
      localStorage.setItem(KEY, JSON.stringify(settings));
    } catch {
      // private browsing: the choice lasts as long as the page
    }
  }

  // The voices for the page's language (any English voice for "en"); all of them if the
  // device has none in it.
  function voices() {
    const all = synth?.getVoices?.() || [];
    const base = (lang || "en").toLowerCase().split("-")[0];
    const mine = all.filter((v) => (v.lang || "").toLowerCase().replace("_", "-").split("-")[0] === base);
    return mine.length ? mine : all;
  }

  function fill() {
    if (!choice) return;
    const wanted = chosen().voice;
    const options = [new Option("The device's own", "")];
    for (const voice of voices()) {
      options.push(new Option(`${voice.name} (${voice.lang})`, voice.voiceURI || voice.name));
    }
    choice.replaceChildren(...options);
    choice.value = options.some((o) => o.value === wanted) ? wanted : "";
  }

  function showNumbers() {
    const now = chosen();
    if (rate) rate.value = String(now.rate);
    if (volume) volume.value = String(now.volume);
    for (const [input, text] of [[rate, `${now.rate.toFixed(1)}×`], [volume, `${Math.round(now.volume * 100)}%`]]) {
      const out = input && document.querySelector(`output[for="${input.id}"]`);
      if (out) out.textContent = text;
    }
  }

  function apply(utterance) {
    const now = chosen();
    const voice = now.voice && voices().find((v) => (v.voiceURI || v.name) === now.voice);
    if (voice) {
      utterance.voice = voice;
      utterance.lang = voice.lang;
    }
    utterance.rate = now.rate;
    utterance.volume = now.volume;
    return utterance;
  }

  if (!panel) return apply;
  if (!synth) {
    panel.querySelector(".voice-fields").hidden = true;
    panel.querySelector(".voice-none").hidden = false;
    return apply;
  }
  fill();
  showNumbers();
  // Chrome lists its voices only after a while: fill again when they come.
  synth.addEventListener?.("voiceschanged", fill);
  choice?.addEventListener("change", () => {
    settings = { ...settings, voice: choice.value };
    save();
  });
  for (const [input, name] of [[rate, "rate"], [volume, "volume"]]) {
    input?.addEventListener("input", () => {
      settings = { ...settings, [name]: Number(input.value) };
      save();
      showNumbers();
    });
  }
  tryIt?.addEventListener("click", () => {
    synth.cancel();
    const utterance = apply(new SpeechSynthesisUtterance(sample));
    if (!utterance.voice) utterance.lang = lang || "en";
    synth.speak(utterance);
  });
  return apply;
}
