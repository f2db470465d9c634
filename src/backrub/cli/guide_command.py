"""`backrub guide`: the whole session live in the terminal, single keys in, the step on screen.

Every key becomes an event that is checked, written to the store (committed) and only then given
to the engine, so the event log is always ahead of the screen: a kill at any instant loses
nothing, and `--resume` replays the log to the same step.
"""

from __future__ import annotations

import contextlib
import io
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer
from rich.cells import cell_len
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from backrub.atlas import Atlas
from backrub.cli import plan_options as options
from backrub.cli.errors import EXIT_OK, EXIT_REFUSED
from backrub.cli.plan_command import show_plan
from backrub.cli.plan_file import read_plan
from backrub.cli.profile import build_request
from backrub.cli.saved import SavedReceiver, saved_receiver
from backrub.cli.speech import Speaker, find_espeak
from backrub.cli.terminal import KeyReader, is_interactive
from backrub.cli.textmap import back_map
from backrub.errors import BackrubError
from backrub.live import LiveRun, clock_speed
from backrub.method.vocabulary import Contact
from backrub.method.words import contact_info
from backrub.planner import Plan, PlanStatus, make_plan
from backrub.session import Cue, Event, EventKind, SessionStatus
from backrub.session.summary import summarize
from backrub.session.view import SessionView, StepView, view_of

if TYPE_CHECKING:
    # The store pulls in SQLAlchemy and Alembic; commands that need it import it when run,
    # so `backrub plan` and friends start quickly.
    from backrub.store import Store

REFRESH_SECONDS = 0.25  # about four screens a second; also how long a key may wait to be read
SPEAK_FINAL_SECONDS = 8.0  # how long the last words may go on after the screen has closed

KEYS: dict[str, EventKind] = {
    "m": EventKind.MORE,
    "l": EventKind.LESS,
    "t": EventKind.TICKLISH,
    "o": EventKind.PAIN,
    "h": EventKind.HEADACHE,
    "n": EventKind.NAUSEA,
    "k": EventKind.KNOT,
    "s": EventKind.STILL_TIGHT,
    "r": EventKind.RELEASED,
    "y": EventKind.ACCEPT_ELBOW,
    "d": EventKind.DECLINE_ELBOW,
    "c": EventKind.COUGH,
    "j": EventKind.SKIP,
    "e": EventKind.EXTEND,
    "b": EventKind.BACK,
}
# How the answer names a key's event, where the event's own name would not say it.
LABELS = {EventKind.EXTEND: "+30 s here", EventKind.BACK: "back one step"}
FELT_KEYS = {**{str(value): value for value in range(10)}, "+": 10}
PAUSE_KEY = " "
STOP_KEY = "q"

# What the giver does, as a verb to shout across the room.
VERBS = {
    "sweep": "SWEEP",
    "palm-compression": "PRESS",
    "kneading": "KNEAD",
    "circles": "CIRCLE",
    "static-pressure": "HOLD",
    "percussion": "TAP",
    "mild-rubbing": "RUB",
}
SIDES = {"left": "LEFT side", "right": "RIGHT side", "both": "BOTH sides", "midline": "middle"}
PHASES = ("opening", "neck", "upper-back", "lower-back", "closing")

# The key legend, in three rows: reports of how it feels, knots, then moving in the session.
LEGEND = (
    (("m", "more"), ("l", "less"), ("0-9 +", "feels"), ("t", "ticklish"), ("o", "ouch"),
     ("h", "headache"), ("n", "nausea"), ("c", "cough")),
    (("k", "knot here"), ("s", "still tight"), ("r", "released"), ("y/d", "elbow")),
    (("e", "+30 s here"), ("b", "back one step"), ("j", "skip"), ("space", "pause"),
     ("q", "stop")),
)  # fmt: skip

HERE_STYLE = "bold bright_green"
MIN_MAP_ROWS = 7
MAX_MAP_ROWS = 25
MAX_TEXT_WIDTH = 90  # longer lines are hard to read at a glance
# Measures wrapped text for the layout; never prints.
_MEASURE = Console(file=io.StringIO(), width=400, color_system=None)
CALM = "grey70"


def guide(
    minutes: options.Minutes = None,
    activity: options.Activities = None,
    trouble: options.TroubleSpots = None,
    pressure: options.Pressure = None,
    order: options.Order = None,
    yes: options.Yes = None,
    local: options.Local = None,
    routine: options.RoutineName = None,
    shoulder_width: options.ShoulderWidth = None,
    back_length: options.BackLength = None,
    profile: options.Profile = None,
    receiver: options.Receiver = None,
    plan_file: Annotated[
        Path | None,
        typer.Option(
            "--plan", help="A plan made with `backrub plan --json`, instead of the plan options."
        ),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the last session that did not end.")
    ] = False,
    speak: Annotated[
        bool, typer.Option("--speak", help="Also say each cue aloud (needs espeak-ng).")
    ] = False,
) -> int:
    """Guide a session live: the step, where and how firm, with single-key feedback.

    Keys, no Enter: m more, l less, 0-9 or + how it feels, t ticklish, o ouch,
    h headache, n nausea, c cough, k knot here, s still tight, r released,
    y/d elbow yes/no, e 30 s more here, b back one step, j skip,
    space pause or resume, q stop.
    Each key is saved before it takes effect: after a crash, --resume goes on.
    """
    # Refusals that need nothing else come first, before the store is touched.
    espeak = find_espeak() if speak else None
    speed = clock_speed()
    overrides = options.plan_overrides(
        minutes=minutes,
        activity=activity,
        trouble=trouble,
        pressure=pressure,
        order=order,
        yes=yes,
        local=local,
        routine=routine,
        shoulder_width=shoulder_width,
        back_length=back_length,
    )
    given = [key for key, value in overrides.items() if value not in (None, (), frozenset())]
    if profile is not None:
        given.append("profile")
    if receiver is not None:
        given.append("receiver")
    plan: Plan | None = None
    saved: SavedReceiver | None = None
    if resume:
        if given or plan_file is not None:
            raise BackrubError(
                "--resume continues the last session's own plan; leave out plan options and --plan"
            )
    elif plan_file is not None:
        if given:
            raise BackrubError("give either --plan or the plan options, not both")
        plan = read_plan(plan_file)
    else:
        saved = saved_receiver(receiver, profile) if receiver is not None else None
        request = build_request(profile, overrides, saved=saved.choices if saved else None)
        plan = make_plan(request, history=saved.history if saved else ())
    if plan is not None and plan.status is PlanStatus.REFUSED:
        show_plan(plan, Console())
        return EXIT_REFUSED
    if sys.platform == "win32":
        raise BackrubError("backrub guide needs a Linux or macOS terminal; on Windows, use WSL")
    if not is_interactive(sys.stdin, sys.stdout):
        raise BackrubError(
            "backrub guide needs a terminal to read keys from; for scripted feedback use "
            "`backrub simulate --plan PLAN.json --events EVENTS.jsonl`"
        )
    from backrub.store import Store
    from backrub.store.history import mark_check_in_used

    with Store.open() as store:
        if plan is None:
            session = _resume(store, speed)
        else:
            # A saved receiver's session is theirs: the next plan learns from it too.
            profile_id = saved.record.id if saved else None
            session = LiveRun.start(store, plan, profile_id=profile_id, speed=speed)
            if saved and plan.request.sore_spots:
                mark_check_in_used(store, saved.record, session.id)
        speaker = Speaker(espeak) if espeak is not None else None
        console = Console()
        runner = _Guide(session, speaker=speaker, console=console)
        ended_by = runner.run()
        if ended_by is not None:
            name = signal.Signals(ended_by).name
            with contextlib.suppress(OSError):  # after a hang-up nobody may be reading
                print(
                    f"backrub: the guide was ended by {name}; every event is saved, "
                    "`backrub guide --resume` continues",
                    file=sys.stderr,
                )
            return 128 + ended_by
        _show_summary(session, console)
        if speaker is not None:
            speaker.close(wait=SPEAK_FINAL_SECONDS)
    return EXIT_OK


# ---------------------------------------------------------------------------- starting


def _resume(store: Store, speed: float) -> LiveRun:
    record = store.last_unfinished()
    if record is None:
        raise BackrubError(
            "there is no unfinished session to resume; start one with `backrub guide`",
            where=store.location,
        )
    return LiveRun.resume(store, record, speed=speed)


# ---------------------------------------------------------------------------- running


class _Guide:
    """The live loop: read a key, log it, apply it, let time pass, draw, say the new cues."""

    def __init__(self, session: LiveRun, *, speaker: Speaker | None, console: Console) -> None:
        self.session = session
        self.engine = session.engine
        self.speaker = speaker
        self.console = console
        self.confirming_stop = False
        self.feedback = (
            Text("Resumed where the session was left; the clock goes on from there.", CALM)
            if session.resumed
            else Text("Keys below; no Enter needed.", CALM)
        )
        self.signalled: int | None = None

    def run(self) -> int | None:
        """Guide until the session ends (None), or until a signal ends the guide (its number)."""
        if self.speaker is not None:
            current = self.engine.state.current
            if self.session.resumed:
                self.speaker.say(["Resuming.", current.cue if current is not None else ""])
            else:
                self.speaker.say(cue.text for cue in self.engine.state.cues[-2:])
        try:
            self._loop()
        except OSError:
            if self.signalled != signal.SIGHUP:
                raise  # after a hang-up the terminal is gone, and writing to it fails
        if self.signalled is not None:
            if self.speaker is not None:
                self.speaker.close()
            return self.signalled
        self.session.end_if_over()
        return None

    def _loop(self) -> None:
        with (
            self._signals(),
            KeyReader() as keys,
            Live(
                self._screen(),
                console=self.console,
                screen=True,
                auto_refresh=False,
                redirect_stdout=False,
                redirect_stderr=False,
            ) as live,
        ):
            while not self.engine.status.is_over and self.signalled is None:
                try:
                    key = keys.read_key(REFRESH_SECONDS)
                except EOFError:
                    self.signalled = signal.SIGHUP  # the terminal went away: as a hang-up
                    break
                if key is not None:
                    self._key(key)
                self._time_passes()
                live.update(self._screen(), refresh=True)
                if self.speaker is not None:
                    self.speaker.poll()

    @contextmanager
    def _signals(self) -> Iterator[None]:
        """SIGTERM, SIGHUP and Ctrl-C end the loop at its next turn; the terminal is restored."""

        def note(number: int, frame: FrameType | None) -> None:
            self.signalled = number

        wanted = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
        previous = {number: signal.signal(number, note) for number in wanted}
        try:
            yield
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)

    # ------------------------------------------------------------------ keys and events

    def _key(self, key: str) -> None:
        if len(key) != 1:
            return  # arrows and other escape sequences mean nothing here
        key = key.lower()
        if self.confirming_stop:
            self.confirming_stop = False
            if key == "y":
                self._event(EventKind.STOP, "stop")
            else:
                self.feedback = Text("Not stopped; carry on.", CALM)
            return
        if key == STOP_KEY:
            self.confirming_stop = True
            return
        if key == PAUSE_KEY:
            paused = self.engine.status is SessionStatus.PAUSED
            self._event(EventKind.RESUME if paused else EventKind.PAUSE, "space")
        elif key in FELT_KEYS:
            self._event(EventKind.FELT, key, value=FELT_KEYS[key])
        elif key in KEYS:
            self._event(KEYS[key], key)
        elif key.strip():
            self.feedback = Text(f"{key!r} is not a key here; see the keys below.", "yellow")

    def _event(self, kind: EventKind, key: str, *, value: int | None = None) -> None:
        # Imported here: only a key pressed needs it, and `backrub plan` should start quickly.
        from backrub.plain_words import reaction_in_words

        event = self.session.event(kind, value=value)
        reactions_before = len(self.engine.state.reactions)
        cues = self._record(event)
        if cues is None:
            return
        reactions = self.engine.state.reactions[reactions_before:]
        routine = self.engine.plan.routine_id
        # Moving in the plan is answered as the web page answers it: step and region ids put in
        # words (the step named by its cue), so a refusal's reason reads plainly.
        said = "; ".join(
            dict.fromkeys(
                reaction_in_words(r.what, routine) if kind in LABELS else r.what for r in reactions
            )
        )
        # A refusal (no time to give, the first step, ...) stands out: nothing changed.
        refused = any(cue.key.endswith("-refused") for cue in cues)
        label = f"{kind.value} {value}" if value is not None else LABELS.get(kind, kind.value)
        self.feedback = Text.assemble(
            (f" {key} ", "reverse"),
            " ",
            (label, "bold"),
            (" → ", CALM),
            (said or "noted", "bold yellow" if refused else ""),
        )

    def _record(self, event: Event) -> list[Cue] | None:
        """The cues the event brought, or None when it was not taken (the reason is shown)."""
        try:
            cues = self.session.record(event)
        except BackrubError as error:
            self.feedback = Text(f"Not taken: {error.one_line()}", "yellow")
            return None
        self._heard(cues)
        return cues

    def _time_passes(self) -> None:
        self._heard(self.session.time_passes())

    def _heard(self, cues: list[Cue]) -> None:
        if cues and self.speaker is not None:
            self.speaker.say(cue.text for cue in cues)

    # ------------------------------------------------------------------ the screen

    def _screen(self) -> RenderableType:
        width, height = self.console.size
        view = view_of(self.engine, recent=12)
        return draw(
            view,
            self.engine.atlas,
            width=width,
            height=height,
            feedback=self.feedback,
            confirming_stop=self.confirming_stop,
        )


# ---------------------------------------------------------------------------- drawing


def draw(
    view: SessionView,
    atlas: Atlas,
    *,
    width: int,
    height: int,
    feedback: Text,
    confirming_stop: bool = False,
) -> RenderableType:
    """The whole screen for one instant; fits 80 x 24 and spreads out on a bigger terminal."""
    cues_shown = 3 if height < 34 else 5
    legend = _legend()
    # Header, two rules, next step, the cues, a gap, the prompt and the legend's lines.
    body_rows = max(MIN_MAP_ROWS, height - (6 + len(legend) + cues_shown))
    map_height = min(MAX_MAP_ROWS, body_rows)
    # Two characters across for one down keeps the back's shape; odd, so the spine is a column.
    map_width = min(2 * map_height - 1, int(width * 0.4) - 4)
    map_width -= 1 - map_width % 2
    map_width = max(2 * MIN_MAP_ROWS - 1, map_width)
    map_height = min(map_height, (map_width + 1) // 2)
    text_width = max(20, min(MAX_TEXT_WIDTH, width - (map_width + 4) - 2))

    body = Table.grid(padding=(0, 2))
    body.add_column(width=text_width)
    body.add_column(width=map_width + 4)
    here = view.step.regions if view.step is not None else ()
    body.add_row(
        _step_column(view, width=text_width, rows=body_rows),
        back_map(atlas, here, width=map_width, height=map_height),
    )
    prompt = _prompt(feedback, confirming_stop, width)
    # An answer too long for one line (a refusal's reason) takes the gap above it.
    gap = [Text("")] if _rows(prompt) == 1 else []
    parts: list[RenderableType] = [
        _header(view),
        Rule(style="grey30"),
        body,
        Rule(style="grey30"),
        _next_line(view),
        *_recent_cues(view, cues_shown),
        *gap,
        prompt,
        *legend,
    ]
    return Group(*parts)


def _header(view: SessionView) -> Table:
    current = view.step.phase if view.step is not None else None
    phases = Text()
    for number, phase in enumerate(PHASES):
        if number:
            phases.append(" · ", "grey35")
        name = phase.replace("-", " ")
        phases.append(
            name.upper() if phase == current else name, "bold" if phase == current else "grey50"
        )
    status = Text()
    if view.status is SessionStatus.PAUSED:
        status.append(" PAUSED ", "reverse bold yellow")
        status.append("  ")
    status.append(f"{_clock(view.worked)} of {_clock(view.budget)}", CALM)
    grid = Table.grid(expand=True)
    grid.add_column(ratio=1)
    grid.add_column(justify="right", no_wrap=True)
    grid.add_row(phases, status)
    return grid


def _step_column(view: SessionView, *, width: int, rows: int) -> RenderableType:
    """The step: its verb as large as fits, where, how firm, the cue, the how, two bars."""
    step = view.step
    if step is None:
        return Text("The session is over.", "bold")
    paused = view.status is SessionStatus.PAUSED
    if paused:
        word, tail, style = "PAUSED", "  hands off", "bold yellow"
    else:
        word = VERBS.get(step.technique, step.technique.upper())
        tail, style = f"  with {_contact_name(step.contact)}", HERE_STYLE
    extras: list[Text] = []
    if paused:
        extras.append(_fit(Text("Press space to go on when you are both ready.", "bold"), width, 2))
    elif view.asking_elbow:
        extras.append(_elbow_question())
    where = _fit(_where_line(view, step), width, 2)
    pressure = _fit(_pressure_line(step), width, 1)
    cue = _fit(Text(step.cue, style="bold"), width, 3)
    needed = sum(_rows(part) for part in (*extras, where, pressure, cue)) + 2  # and two bars
    for scale in (2, 1, 0):
        verb = _verb(word, tail, style, scale)
        widest = max(cell_len(line) for line in verb.plain.split("\n"))
        # The largest letters only when two gaps and two lines of the how still fit too.
        spare = 4 if scale == 2 else 0
        if _rows(verb) + needed + spare <= rows and (scale == 0 or widest <= width):
            break
    room = rows - _rows(verb) - needed
    gap_after_pressure = room >= 1
    gap_before_bars = room >= 2
    room -= int(gap_after_pressure) + int(gap_before_bars)
    lines: list[RenderableType] = [verb, *extras, where, pressure]
    if gap_after_pressure:
        lines.append(Text(""))
    lines.append(cue)
    if room > 0:
        lines.append(_fit(Text(step.how, style="grey50"), width, room))
    if gap_before_bars:
        lines.append(Text(""))
    lines.append(_bar("this step", view.step_elapsed, step.seconds, view.step_left, width))
    lines.append(_bar("session", view.worked, view.budget, view.session_left, width))
    return Group(*lines)


def _verb(word: str, tail: str, style: str, scale: int) -> Text:
    """The word in block letters (scale 1: 3 lines, 2: 5 lines), `tail` beside its middle."""
    if scale == 0:
        return Text.assemble((word, style), (tail, "bold"))
    rows = big_letters(word, scale=scale)
    verb = Text(no_wrap=True, overflow="crop")
    for number, row in enumerate(rows):
        if number:
            verb.append("\n")
        verb.append(row, style)
        if number == len(rows) // 2:
            verb.append(tail, "bold")
    return verb


def _fit(text: Text, width: int, rows: int) -> Text:
    """`text` wrapped to `width`, at most `rows` lines; a cut shows as an ellipsis."""
    lines = list(text.wrap(_MEASURE, width))
    if len(lines) > rows:
        lines = lines[:rows]
        last = lines[-1]
        last.rstrip()
        last.truncate(width - 2)
        last.append(" …", text.style)
    fitted = Text("\n", no_wrap=True, overflow="crop").join(lines)
    fitted.no_wrap = True
    return fitted


def _rows(text: Text) -> int:
    return text.plain.count("\n") + 1


def _where_line(view: SessionView, step: StepView) -> Text:
    """Which side first (it matters most and is never split), then the regions' names."""
    line = Text()
    if view.knot_region is not None and step.knot_rung is not None:
        line.append(f"Knot, rung {step.knot_rung} · ", "bold yellow")
    elif view.knot_region is not None:
        line.append("Knot · ", "bold yellow")
    line.append(SIDES.get(step.side, step.side), HERE_STYLE)
    line.append(" · ", CALM)
    line.append(step.where, "bold")
    return line


def _pressure_line(step: StepView) -> Text:
    low, high = step.target_band
    line = Text("Pressure ", CALM)
    line.append("●" * step.pressure, "bold")
    line.append("○" * (5 - step.pressure), "grey35")
    line.append(f" {step.pressure} {step.pressure_word}", "bold")
    line.append(f"  ·  aim for {low}-{high} of 10", CALM)
    return line


def _bar(label: str, done: float, total: float, left: float, width: int) -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=9, no_wrap=True)
    grid.add_column(width=max(10, width - 22))
    grid.add_column(no_wrap=True)
    grid.add_row(
        Text(label, CALM),
        ProgressBar(
            total=max(total, 1e-9),
            completed=min(done, total),
            complete_style="green",
            finished_style="green",
        ),
        Text(f"{_clock(left)} left", CALM),
    )
    return grid


def _next_line(view: SessionView) -> Text:
    line = Text("Next  ", CALM)
    following = view.next_step
    if view.knot_region is not None:
        # The knot's own steps (next rung, then mild rubbing) come before the plan's next one.
        if view.step is not None and view.step.knot_rung is None:
            line.append("the plan goes on where it left off", "grey70")
            return line
        line.append("when the knot lets go, ", "grey70")
        line.append("r", "bold reverse")
        line.append(": a little mild rubbing, then the plan goes on", "grey70")
        return line
    if following is None:
        line.append("the end: let them sit a moment", "grey70")
        return line
    verb = VERBS.get(following.technique, following.technique.upper())
    line.append(f"{verb} with {_contact_name(following.contact)}", "bold")
    line.append(f" — {following.where}, {SIDES.get(following.side, following.side)}", "grey70")
    line.append(f"  ({_clock(following.seconds)})", CALM)
    line.no_wrap = True
    line.overflow = "ellipsis"
    return line


def _recent_cues(view: SessionView, count: int) -> list[Text]:
    """The last few things said, newest last; the step's own cue is already shown above."""
    texts = [cue.text for cue in view.recent_cues if cue.key != "step"]
    # A line said again (body mechanics on every rung) moves to the end instead of repeating.
    said = list(reversed(dict.fromkeys(reversed(texts))))[-count:]
    lines = [Text("  " + text, "grey62", no_wrap=True, overflow="ellipsis") for text in said]
    if lines:
        lines[-1].stylize("bold not dim")
    return [Text("")] * (count - len(lines)) + lines


def _prompt(feedback: Text, confirming_stop: bool, width: int) -> Text:
    if confirming_stop:
        return Text.assemble(
            ("Stop the session? ", "bold yellow"),
            ("y", "reverse bold"),
            (" = stop, ", "bold"),
            ("n", "reverse bold"),
            (" = carry on", "bold"),
        )
    return _fit(feedback, width, 2)


def _elbow_question() -> Text:
    return Text.assemble(
        (" Ask: elbow? ", "reverse bold yellow"),
        "  ",
        ("y", "reverse bold"),
        (" = yes   ", "bold"),
        ("d", "reverse bold"),
        (" = no", "bold"),
    )


def _legend() -> list[Text]:
    rows = []
    for row in LEGEND:
        line = Text(no_wrap=True, overflow="crop")
        for number, (key, label) in enumerate(row):
            if number:
                line.append("  ")
            line.append(key, "bold reverse")
            line.append(f" {label}", CALM)
        rows.append(line)
    return rows


def _contact_name(contact: str) -> str:
    return contact_info(Contact(contact)).name.lower()


def _clock(seconds: float) -> str:
    whole = max(0, round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


# ---------------------------------------------------------------------------- the end


def _show_summary(session: LiveRun, console: Console) -> None:
    engine = session.engine
    summary = summarize(engine)
    state = engine.state
    title = "finished" if engine.status is SessionStatus.FINISHED else "stopped"
    console.print(
        f"[bold]Session {title}[/] after {_clock(summary['worked_seconds'])} of work "
        f"({_clock(engine.budget)} planned)."
    )
    # The last words: the cues said together at the end (finished or stopped, then care).
    last_at = state.cues[-1].at if state.cues else 0.0
    last_words = [cue.text for cue in state.cues if cue.at >= last_at][-4:]
    for text in last_words:
        console.print(f"  {text}", style="grey70", highlight=False)
    sides = summary["per_side_seconds"]
    console.print(
        f"Time per side: left {_clock(sides['left'])}, right {_clock(sides['right'])}, "
        f"middle {_clock(sides['midline'])}",
        highlight=False,
    )
    knots = summary["knots"]
    if knots:
        found = ", ".join(
            f"{knot['region']} ({knot['outcome']}, {_clock(knot['seconds'])})" for knot in knots
        )
        console.print(f"Knots: {found}", highlight=False)
    else:
        console.print("Knots: none reported", highlight=False)
    for item in summary["left_out"]:
        console.print(f"Left out: {item['region']}: {item['reason']}", highlight=False)
    for technique, reason in summary["removed_techniques"].items():
        console.print(f"Left out: {technique}: {reason}", highlight=False)
    console.print(f"Session id: {session.id}", highlight=False)


# ---------------------------------------------------------------------------- block letters

# A 3-line block font: each letter 5 pixels high, drawn two pixels to a character with half
# blocks, so it reads across a room while the hands are busy.
_FONT: dict[str, tuple[str, ...]] = {
    "A": (".#.", "#.#", "###", "#.#", "#.#"),
    "B": ("##.", "#.#", "##.", "#.#", "##."),
    "C": (".##", "#..", "#..", "#..", ".##"),
    "D": ("##.", "#.#", "#.#", "#.#", "##."),
    "E": ("###", "#..", "##.", "#..", "###"),
    "F": ("###", "#..", "##.", "#..", "#.."),
    "G": (".##", "#..", "#.#", "#.#", ".##"),
    "H": ("#.#", "#.#", "###", "#.#", "#.#"),
    "I": ("###", ".#.", ".#.", ".#.", "###"),
    "J": ("..#", "..#", "..#", "#.#", ".#."),
    "K": ("#.#", "#.#", "##.", "#.#", "#.#"),
    "L": ("#..", "#..", "#..", "#..", "###"),
    "M": ("#...#", "##.##", "#.#.#", "#...#", "#...#"),
    "N": ("#..#", "##.#", "#.##", "#..#", "#..#"),
    "O": ("###", "#.#", "#.#", "#.#", "###"),
    "P": ("##.", "#.#", "##.", "#..", "#.."),
    "Q": (".#.", "#.#", "#.#", "##.", ".##"),
    "R": ("##.", "#.#", "##.", "#.#", "#.#"),
    "S": (".##", "#..", ".#.", "..#", "##."),
    "T": ("###", ".#.", ".#.", ".#.", ".#."),
    "U": ("#.#", "#.#", "#.#", "#.#", "###"),
    "V": ("#.#", "#.#", "#.#", "#.#", ".#."),
    "W": ("#...#", "#...#", "#.#.#", "##.##", "#...#"),
    "X": ("#.#", "#.#", ".#.", "#.#", "#.#"),
    "Y": ("#.#", "#.#", ".#.", ".#.", ".#."),
    "Z": ("###", "..#", ".#.", "#..", "###"),
    "?": ("##.", "..#", ".#.", "...", ".#."),
    "-": ("...", "...", "###", "...", "..."),
    " ": ("..", "..", "..", "..", ".."),
}
_HALVES = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}


def big_letters(word: str, *, scale: int = 1) -> list[str]:
    """Block letters for `word`: 3 lines (scale 1, half blocks) or 5 (scale 2, full blocks).

    Characters without a glyph are left out.
    """
    pixels = ["", "", "", "", ""]
    for letter in word.upper():
        glyph = _FONT.get(letter)
        if glyph is None:
            continue
        for row in range(5):
            pixels[row] += (" " if pixels[row] else "") + glyph[row]
    if scale >= 2:
        return ["".join("██" if pixel == "#" else "  " for pixel in row) for row in pixels]
    pixels.append(" " * len(pixels[0]))
    return [
        "".join(
            _HALVES[(top == "#", bottom == "#")]
            for top, bottom in zip(pixels[pair], pixels[pair + 1], strict=True)
        )
        for pair in (0, 2, 4)
    ]
