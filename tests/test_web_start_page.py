"""The start page and the plan preview, as a browser would post them (plain HTML forms)."""

from __future__ import annotations

import re
from html import unescape as html_unescape
from html.parser import HTMLParser
from urllib.parse import urlencode

import httpx
import pytest

from tests.webserver import Server


@pytest.fixture
def client(web_server: Server) -> httpx.Client:
    with web_server.client() as http:
        yield http  # type: ignore[misc]


def error_next_to(html: str, field: str) -> str:
    """The message shown right after the field, tied to it for screen readers."""
    found = re.search(rf'<p class="error" id="{field}-error" role="alert">([^<]*)</p>', html)
    assert found, f"no error shown for {field}"
    return html_unescape(found.group(1))


def test_the_start_page_offers_every_choice_with_labels(client: httpx.Client) -> None:
    html = client.get("/").text
    for name in ("profile_name", "minutes", "order", "routine"):
        assert f'<label for="{name}"' in html
    assert 'name="activities" value="computer-work"' in html
    assert 'name="trouble_spots" value="upper-trapezius-left"' in html
    assert 'name="yes" value="chest-pain-or-breathless"' in html
    assert 'data-region="upper-trapezius-left"' in html  # the map to tap
    assert 'name="local_kind"' in html


def test_a_bad_value_comes_back_next_to_its_field_with_the_rest_kept(
    client: httpx.Client,
) -> None:
    reply = client.post(
        "/plan",
        data={"minutes": "200", "activities": "knitting", "trouble_spots": "spine"},
    )
    assert reply.status_code == 422
    html = reply.text
    assert "between 5 and 90 minutes" in error_next_to(html, "minutes")
    assert "never pressed" in error_next_to(html, "trouble_spots")
    assert 'aria-describedby="minutes-error"' in html
    assert 'value="200"' in html  # what was typed stays
    assert 'value="knitting" checked' in html


def test_a_local_problem_with_an_unknown_region_is_named(client: httpx.Client) -> None:
    reply = client.post(
        "/plan", data={"minutes": "20", "local_kind": "bruise", "local_region": "elbow"}
    )
    assert reply.status_code == 422
    assert "unknown region 'elbow'" in error_next_to(reply.text, "local")


def test_the_preview_explains_go_and_offers_to_start_and_print(client: httpx.Client) -> None:
    reply = client.post("/plan", data={"minutes": "15", "trouble_spots": "middle-trapezius-right"})
    assert reply.status_code == 200
    html = reply.text
    assert 'id="outcome-heading">Go<' in html
    assert 'id="start-session"' in html
    assert "data-print" in html
    assert 'class="plan-steps"' in html
    assert 'name="trouble_spots" value="middle-trapezius-right"' in html


def test_changes_are_listed_with_their_reasons(client: httpx.Client) -> None:
    reply = client.post(
        "/plan",
        data={"minutes": "20", "local_kind": "sunburn", "local_region": "latissimus-left"},
    )
    assert "Go with changes" in reply.text
    left_out = reply.text[reply.text.index("<h3>Left out</h3>") :]
    assert "Latissimus dorsi" in left_out  # left out, with the reason, in words
    assert 'id="start-session"' in reply.text


def test_a_refusal_explains_and_offers_no_start(client: httpx.Client) -> None:
    reply = client.post("/plan", data={"minutes": "20", "yes": "chest-pain-or-breathless"})
    assert reply.status_code == 200
    assert "Not today, get medical help now" in reply.text
    assert "emergency" in reply.text
    assert 'id="start-session"' not in reply.text


def test_starting_saves_the_receiver_and_opens_the_live_page(client: httpx.Client) -> None:
    reply = client.post(
        "/session", data={"minutes": "10", "profile_name": "Kim", "activities": "knitting"}
    )
    assert reply.status_code == 303
    assert re.fullmatch(r"/session/[0-9a-f]{32}", reply.headers["location"])
    profiles = client.get("/api/profiles").json()
    kim = next(p for p in profiles if p["name"] == "Kim")
    assert kim["preferences"]["activities"] == ["knitting"]
    again = client.get("/", params={"profile": kim["id"]}).text
    assert "Starting from Kim" in again
    assert 'value="knitting" checked' in again


def test_a_refused_start_posted_anyway_is_refused_with_the_reason(client: httpx.Client) -> None:
    before = len(client.get("/api/sessions").json())
    reply = client.post("/session", data={"minutes": "10", "yes": "chest-pain-or-breathless"})
    assert reply.status_code == 409
    assert "get medical help now" in error_next_to(reply.text, "yes")
    assert len(client.get("/api/sessions").json()) == before


def test_swap_roles_prefills_a_short_gentle_session(client: httpx.Client) -> None:
    html = client.get("/", params={"swap": "0123456789abcdef0123456789abcdef"}).text
    assert "Swap roles" in html
    assert 'id="minutes" name="minutes" value="10"' in html


# ------------------------------------------------------------------ the quick path (issue 11)


class _Form(HTMLParser):
    """The start form's fields as a browser would send them: hidden and typed inputs, ticked
    boxes and radios, chosen options (submit buttons are left to the caller)."""

    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[tuple[str, str]] = []
        self._inside = False
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "form" and found.get("id") == "start-form":
            self._inside = True
        if not self._inside or ("name" not in found and tag != "option"):
            return
        kind = found.get("type", "text")
        if tag == "input" and kind in ("hidden", "text", "number"):
            self.pairs.append((found["name"], found.get("value", "")))
        elif tag == "input" and kind in ("checkbox", "radio") and "checked" in found:
            self.pairs.append((found["name"], found.get("value", "on")))
        elif tag == "select":
            self._select = found["name"]
        elif tag == "option" and self._select and "selected" in found:
            self.pairs.append((self._select, found.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False
        if tag == "select":
            self._select = None


def form_of(html: str, **changes: str) -> list[tuple[str, str]]:
    """The start form as shown, with `changes` set (replacing any value of that name)."""
    parser = _Form()
    parser.feed(html)
    return [(k, v) for k, v in parser.pairs if k not in changes] + list(changes.items())


def post_form(client: httpx.Client, path: str, pairs: list[tuple[str, str]]) -> httpx.Response:
    """Post repeated fields in order, as a browser sends a form."""
    return client.post(
        path,
        content=urlencode(pairs),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def saved_receiver(client: httpx.Client, name: str, **answers: str | list[str]) -> int:
    """A receiver saved by starting (or trying to start) a session with these answers."""
    reply = client.post("/session", data={"minutes": "10", "profile_name": name, **answers})
    assert reply.status_code in (303, 409), reply.text
    profiles = client.get("/api/profiles").json()
    found: int = next(p["id"] for p in profiles if p["name"] == name)
    return found


def sessions_of(client: httpx.Client) -> int:
    return len(client.get("/api/sessions").json())


def test_screening_answers_are_saved_with_the_receiver_and_come_back_ticked(
    client: httpx.Client,
) -> None:
    receiver = saved_receiver(
        client,
        "Jo",
        activities="knitting",
        trouble_spots="upper-trapezius-left",
        yes="bruises-easily",
        local_kind="bruise",
        local_region="latissimus-right",
    )
    saved = next(p for p in client.get("/api/profiles").json() if p["id"] == receiver)
    assert saved["screening"]["yes"] == ["bruises-easily"]
    assert saved["screening"]["local"] == ["latissimus-right:bruise"]
    assert "screening" not in saved["preferences"]

    html = client.get("/", params={"receiver": receiver}).text
    assert "Anything changed since last time?" in html
    assert 'name="yes" value="bruises-easily" checked' in html
    assert re.search(r'<option value="latissimus-right" selected>', html)
    assert 'value="knitting" checked' in html  # activities keep their last values
    assert 'value="upper-trapezius-left" checked' in html  # and so do trouble spots
    # The groups are folded; the health questions too, since last time's answers stand in.
    assert re.search(r'<details class="group" id="screening-group"\s*>', html)
    assert re.search(r'<details class="group" id="activities-group"\s*>', html)


def test_the_quick_path_starts_nothing_until_asked_whether_anything_changed(
    client: httpx.Client,
) -> None:
    receiver = saved_receiver(client, "Ash")
    html = client.get("/", params={"receiver": receiver}).text
    before = sessions_of(client)
    reply = post_form(client, "/session", form_of(html))
    assert reply.status_code == 422
    assert "has anything changed since last time" in error_next_to(reply.text, "changed")
    assert sessions_of(client) == before

    reply = post_form(client, "/session", form_of(html, changed="no"))
    assert reply.status_code == 303
    assert sessions_of(client) == before + 1


def test_a_yes_opens_every_question_before_anything_starts(client: httpx.Client) -> None:
    receiver = saved_receiver(client, "Noor", yes="bruises-easily")
    html = client.get("/", params={"receiver": receiver}).text
    before = sessions_of(client)
    reply = post_form(client, "/session", form_of(html, changed="yes"))
    assert reply.status_code == 422
    assert "go through the questions below" in error_next_to(reply.text, "changed")
    shown = reply.text
    assert re.search(r'<details class="group" id="screening-group"\s+open\s*>', shown)
    assert 'name="yes" value="bruises-easily" checked' in shown  # pre-filled
    assert sessions_of(client) == before
    # Now on screen: changed and sent again, it starts.
    reply = post_form(client, "/session", form_of(shown, changed="yes"))
    assert reply.status_code == 303


def test_see_all_questions_opens_them_pre_filled(client: httpx.Client) -> None:
    receiver = saved_receiver(client, "Kai", yes="bruises-easily")
    html = client.get("/", params={"receiver": receiver}).text
    reply = post_form(client, "/answers", [*form_of(html), ("show", "questions")])
    assert re.search(r'<details class="group" id="screening-group"\s+open\s*>', reply.text)
    assert 'name="yes" value="bruises-easily" checked' in reply.text


def test_a_saved_answer_that_stops_the_session_still_stops_it(client: httpx.Client) -> None:
    receiver = saved_receiver(client, "Lee", yes="chest-pain-or-breathless")
    html = client.get("/", params={"receiver": receiver}).text
    assert 'name="yes" value="chest-pain-or-breathless" checked' in html
    assert "chest pain or sudden breathlessness" in html  # said on the quick path, in words
    before = sessions_of(client)
    reply = post_form(client, "/session", form_of(html, changed="no"))
    assert reply.status_code == 409
    assert "get medical help now" in error_next_to(reply.text, "yes")
    assert sessions_of(client) == before


def test_a_saved_answer_that_restricts_the_session_still_restricts_it(
    client: httpx.Client,
) -> None:
    receiver = saved_receiver(client, "Sol", local_kind="sunburn", local_region="latissimus-left")
    html = client.get("/", params={"receiver": receiver}).text
    reply = post_form(client, "/plan", form_of(html, changed="no"))
    assert reply.status_code == 200
    assert "Go with changes" in reply.text
    left_out = reply.text[reply.text.index("<h3>Left out</h3>") :]
    assert "Latissimus dorsi" in left_out


def test_a_receiver_id_that_is_not_there_is_not_found(client: httpx.Client) -> None:
    assert client.get("/", params={"receiver": 987654}).status_code == 404


def test_the_plan_and_change_the_answers_keep_the_quick_path(client: httpx.Client) -> None:
    receiver = saved_receiver(client, "Vic")
    html = client.get("/", params={"receiver": receiver}).text
    plan = post_form(client, "/plan", form_of(html, changed="no")).text
    assert '<input type="hidden" name="changed" value="no">' in plan
    assert '<input type="hidden" name="quick" value="1">' in plan
    again = post_form(client, "/answers", form_of(html, changed="no")).text
    assert "Anything changed since last time?" in again
    assert 'value="no" id="changed-no" checked' in again
