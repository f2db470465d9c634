// Following a session's live state, for every page that shows one (the giver's page and the
// receiver's remote): the server-sent stream, a plain poll where the browser has none, and a
// fresh look on demand. The page says what to do with each state and with a lost connection.
const POLL_MS = 2000; // without EventSource: how often to ask
const AGAIN_MS = 3000; // after the stream closed for good: when to open a new one

// followSession(api, {onState, onLost, onBack, onMissing, isOver}) -> {refresh, start, stop}
// onState(state): each state received. onLost(kind): "stream" (it broke; the browser retries)
// or "unreachable" (a look found no server). onBack(): the first state after a loss.
// onMissing(): the session is not on the server (404). isOver(): stop following for good.
export function followSession(api, { onState, onLost, onBack, onMissing, isOver = () => false }) {
  let source = null;
  let poll = null;
  let again = null;
  let lost = false;

  function received(state) {
    if (lost) {
      lost = false;
      onBack?.();
    }
    onState(state);
  }

  function losing(kind) {
    lost = true;
    onLost?.(kind);
  }

  async function refresh() {
    try {
      const response = await fetch(api, { headers: { Accept: "application/json" } });
      if (response.ok) received(await response.json());
      else if (response.status === 404) onMissing?.();
    } catch {
      losing("unreachable");
    }
  }

  function start() {
    stop();
    if (isOver()) return;
    if (!("EventSource" in window)) {
      poll = setInterval(() => (isOver() ? stop() : refresh()), POLL_MS);
      return;
    }
    const opened = new EventSource(`${api}/stream`);
    source = opened;
    opened.addEventListener("state", (event) => {
      let state;
      try {
        state = JSON.parse(event.data);
      } catch {
        return; // a broken message: the next one draws the page
      }
      received(state);
    });
    opened.addEventListener("error", () => {
      if (isOver()) {
        stop();
        return;
      }
      losing("stream");
      // The browser retries by itself unless it gave up: then a new stream, a little later.
      if (opened.readyState === EventSource.CLOSED && source === opened) {
        again = setTimeout(start, AGAIN_MS);
      }
    });
  }

  function stop() {
    if (source) source.close();
    source = null;
    clearInterval(poll);
    clearTimeout(again);
    poll = again = null;
  }

  return { refresh, start, stop };
}
