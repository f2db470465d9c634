"""The app installs like one: every page links the web app manifest, whose icons are our own
SVG; the service worker is served at the root (scope: the whole app) under the same security
headers as everything else, and it is open to a device that has not paired yet."""

from __future__ import annotations

import json
import re

from backrub.web.security import POLICY
from tests.webserver import Server, module_server, start_session

MANIFEST = re.compile(r'<link rel="manifest" href="(/static/manifest\.webmanifest\?v=[^"]+)">')


def test_pages_link_the_manifest_and_a_theme_colour_for_each_theme(web_server: Server) -> None:
    with web_server.client() as client:
        session = start_session(client)["id"]
        for path in ("/", f"/session/{session}", f"/session/{session}/remote", "/history"):
            html = client.get(path).text
            assert MANIFEST.search(html), path
            light = (
                '<meta name="theme-color" content="#1d4e6b" media="(prefers-color-scheme: light)">'
            )
            dark = (
                '<meta name="theme-color" content="#14181b" media="(prefers-color-scheme: dark)">'
            )
            assert light in html and dark in html, path


def test_the_manifest_makes_an_installable_app_with_our_icons(web_server: Server) -> None:
    with web_server.client() as client:
        found = MANIFEST.search(client.get("/").text)
        assert found is not None
        reply = client.get(found.group(1))
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("application/manifest+json")
        manifest = json.loads(reply.text)
        assert manifest["display"] == "standalone"
        assert manifest["start_url"] == "/" and manifest["scope"] == "/"
        assert manifest["name"] and manifest["short_name"] == "backrub"
        assert manifest["theme_color"] and manifest["background_color"]
        purposes = set()
        for icon in manifest["icons"]:
            picture = client.get(f"/static/{icon['src']}")
            assert picture.status_code == 200, icon
            assert picture.text.startswith("<svg"), icon  # drawn here, not downloaded artwork
            purposes.add(icon["purpose"])
        assert purposes == {"any", "maskable"}


def test_the_service_worker_is_served_at_the_root_under_the_security_policy(
    web_server: Server,
) -> None:
    with web_server.client() as client:
        reply = client.get("/sw.js")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/javascript")
    assert reply.headers["service-worker-allowed"] == "/"
    assert reply.headers["content-security-policy"] == POLICY
    assert reply.headers["cache-control"] == "no-store"  # a new version reaches every device
    script = reply.text
    assert 'addEventListener("fetch"' in script
    # It never answers a POST from its cache: presses always go to the server.
    assert 'request.method !== "GET"' in script


lan_server = module_server("lan", "--lan")


def test_an_unpaired_device_gets_the_manifest_and_its_icons_but_no_page(lan_server: Server) -> None:
    with lan_server.client() as stranger:
        for path in (
            "/static/manifest.webmanifest",
            "/static/icon.svg",
            "/static/icon-maskable.svg",
        ):
            assert stranger.get(path).status_code == 200, path
        assert stranger.get("/static/live.js").status_code == 401
        assert stranger.get("/").status_code == 303
