"""A stand-in for the browser's speech (speechSynthesis), for the browser tests: it says nothing
aloud and records each utterance as the page dressed it, so a test reads what was said, in
which voice, how fast and how loud. Headless chromium may refuse to speak before a tap, and the
live page then shows a banner over the top; the stand-in always speaks, quietly."""

from __future__ import annotations

import json
import time
from typing import Any

from playwright.sync_api import Page

WAIT_S = 5.0
STUB = """
window.__said = [];
const voices = %s;
window.SpeechSynthesisUtterance = class {
  constructor(text) {
    Object.assign(this, { text, voice: null, rate: 1, volume: 1, lang: "" });
  }
  addEventListener() {}
};
Object.defineProperty(window, "speechSynthesis", { configurable: true, value: {
  speaking: false, pending: false, paused: false,
  getVoices: () => voices,
  speak(u) {
    const voice = u.voice && u.voice.name;
    window.__said.push({ text: u.text, voice, rate: u.rate, volume: u.volume, lang: u.lang });
  },
  cancel() {}, pause() {}, resume() {}, addEventListener() {}, removeEventListener() {},
} });
"""


def speech_stub(voices: list[dict[str, Any]] | None = None) -> str:
    """The script to install before the page's own (`add_init_script`); `voices` are the
    device's voices (name, lang, voiceURI, default, localService), none by default."""
    return STUB % json.dumps(voices or [])


def said(page: Page) -> list[dict[str, Any]]:
    """Every utterance so far: text, voice (its name, None for the device's own), rate,
    volume, lang."""
    found: list[dict[str, Any]] = page.evaluate("window.__said")
    return found


def wait_said(page: Page, text: str, *, timeout: float = WAIT_S) -> dict[str, Any]:
    """The last utterance of `text`, once the page has said it."""
    deadline = time.monotonic() + timeout
    while True:
        found = [u for u in said(page) if u["text"] == text]
        if found:
            return found[-1]
        assert time.monotonic() < deadline, f"never said {text!r}: {said(page)}"
        time.sleep(0.05)
