"""The receiver's remote: its page answers where the live page does, holds the receiver's
buttons, and presses sent from it reach the live state marked as the receiver's."""

from __future__ import annotations

import re

from tests.webserver import Server, module_server

BUTTONS = ("less", "more", "pain", "ticklish", "knot", "headache", "nausea", "pause")


def new_session(client_server: Server) -> str:
    with client_server.client() as client:
        reply = client.post("/api/sessions", json={"minutes": 30})
    assert reply.status_code == 201, reply.text
    found: str = reply.json()["id"]
    return found


def test_the_remote_holds_the_receivers_buttons_and_never_speaks(web_server: Server) -> None:
    session_id = new_session(web_server)
    with web_server.client() as client:
        page = client.get(f"/session/{session_id}/remote")
        script = client.get("/static/remote.js")
    assert page.status_code == 200, page.text
    html = page.text
    for kind in BUTTONS:
        assert f'data-event="{kind}"' in html, kind
    assert len(re.findall(r'<button type="button" data-value="\d+"', html)) == 11  # the dial
    assert 'id="remote-band"' in html and "Aim for" in html
    assert "/static/remote.js" in html and "/static/live.js" not in html
    # Nothing the giver's page has that would distract: no skip, no stop, no cue.
    assert 'data-event="skip"' not in html and 'data-event="stop"' not in html
    assert script.status_code == 200
    assert 'source: "remote"' in script.text
    assert "speechSynthesis" not in script.text and "SpeechSynthesisUtterance" not in script.text


def test_the_giver_page_links_to_the_remote_with_a_qr_code_drawn_here(web_server: Server) -> None:
    session_id = new_session(web_server)
    with web_server.client() as client:
        html = client.get(f"/session/{session_id}").text
    link = f"{web_server.url}/session/{session_id}/remote"
    assert f'<a href="{link}">{link}</a>' in html
    qr = html.split('<div class="remote-qr">', 1)[1].split("</div>", 1)[0]
    assert qr.startswith("<svg") and "<path" in qr and "<img" not in qr


def test_a_press_from_the_remote_is_marked_as_the_receivers(web_server: Server) -> None:
    session_id = new_session(web_server)
    events = f"/api/sessions/{session_id}/events"
    with web_server.client() as client:
        assert client.get(f"/api/sessions/{session_id}").json()["press"] is None
        remote = client.post(events, json={"kind": "more", "source": "remote"})
        assert remote.status_code == 200, remote.text
        press = remote.json()["press"]
        assert press["source"] == "remote" and press["kind"] == "more"
        assert press["seq"] == remote.json()["seq"]
        # The giver's own press is not the receiver's; the engine acts on both alike.
        page = client.post(events, json={"kind": "less"})
        assert page.json()["press"]["source"] == "page"
        assert page.json()["press"]["kind"] == "less"
        wrong = client.post(events, json={"kind": "more", "source": "neighbour"})
    assert wrong.status_code == 422
    assert "source" in wrong.text


def test_the_remote_of_an_unknown_session_is_a_404_page(web_server: Server) -> None:
    with web_server.client() as client:
        page = client.get("/session/no-such-session/remote")
    assert page.status_code == 404
    assert "No such session" in page.text


lan_server = module_server("lan-remote", "--lan")


def test_on_lan_the_remote_needs_pairing(lan_server: Server) -> None:
    with lan_server.paired_client() as paired:
        reply = paired.post("/api/sessions", json={"minutes": 30})
        assert reply.status_code == 201, reply.text
        session_id = reply.json()["id"]
        assert paired.get(f"/session/{session_id}/remote").status_code == 200
    with lan_server.client(follow_redirects=False) as stranger:
        page = stranger.get(f"/session/{session_id}/remote")
        script = stranger.get("/static/remote.js")
    assert page.status_code in (302, 303, 307) and page.headers["location"].startswith("/pair")
    assert script.status_code == 401
