"""Bytes on the wire for the live page's first load, and for the next visit.

A phone on a weak network opens /session/{id}: the page (with the whole back map in it), every
static file it links (style, script, icon) and the modules its script imports, and the first
state (JSON). This counts the bytes each reply's body
took on the wire (after any compression), three ways:

- identity: no `Accept-Encoding` (what every load cost before replies were gzipped);
- gzip: a first visit by a browser that accepts gzip (every browser does);
- gzip, next visit: the static files' versioned URLs are kept a year (`immutable`), so the
  browser asks only for the page and the state.

Then "a step change": what a page following the session receives when the step moves on, the
new state on the live stream (sent plain) and the step's part of the map (gzipped); the page has
the whole map already and lights the step's regions itself. Goal: at most 5 KB.

    python bench/bench_bytes.py

Run by `make bench`. Prints figures; asserts nothing. Headers are not counted.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.webserver import start_server, start_session, step_change_bytes

STATIC_LINK = re.compile(r'(?:href|src)="(/static/[^"]+)"')
MODULE_IMPORT = re.compile(r'(?:from|import)\s*\(?\s*"\./([^"]+\.js\?v=[^"]+)"')


Row = tuple[str, int, int, str, str]


def first_load(client: httpx.Client, session_id: str, *, cached: frozenset[str]) -> list[Row]:
    """(path, bytes on the wire, bytes unpacked, encoding, cache-control) for each request."""
    page = client.get(f"/session/{session_id}")
    page.raise_for_status()
    # `cached`: the static files kept from a visit before, by path without the version.
    paths = [p for p in STATIC_LINK.findall(page.text) if p.split("?")[0] not in cached]
    api = f"/api/sessions/{session_id}"
    rows = [page]
    while paths:  # the linked files, then the modules the scripts import (each once)
        path = paths.pop(0)
        rows.append(client.get(path))
        if path.split("?")[0].endswith(".js"):
            found = [f"/static/{name}" for name in MODULE_IMPORT.findall(rows[-1].text)]
            seen = {row.request.url.path for row in rows} | {p.split("?")[0] for p in paths}
            paths += [p for p in found if p.split("?")[0] not in seen | cached]
    rows.append(client.get(api, headers={"Accept": "application/json"}))
    for reply in rows:
        reply.raise_for_status()
    return [
        (
            reply.request.url.path.replace(session_id, "{id}"),
            reply.num_bytes_downloaded,
            len(reply.content),
            reply.headers.get("content-encoding", "-"),
            reply.headers.get("cache-control", "-"),
        )
        for reply in rows
    ]


def show(label: str, rows: list[Row]) -> int:
    print(f"\n{label}")
    for path, wire, plain, encoding, cache in rows:
        print(f"  {path:<44} {wire:>8,} B  (unpacked {plain:>8,}, {encoding:<4}) {cache}")
    total = sum(row[1] for row in rows)
    print(f"  {'total':<44} {total:>8,} B")
    return total


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        server = start_server(Path(folder))
        try:
            with server.client() as client:
                session_id = start_session(client)["id"]
                client.post(f"/api/sessions/{session_id}/events", json={"kind": "pause"})
            plain = {"Accept-Encoding": "identity"}
            with server.client(headers=plain) as client:
                before = show(
                    "identity (no compression):", first_load(client, session_id, cached=frozenset())
                )
            with server.client(headers={"Accept-Encoding": "gzip"}) as client:
                rows = first_load(client, session_id, cached=frozenset())
                after = show("gzip, first visit:", rows)
                kept = frozenset(row[0] for row in rows if row[0].startswith("/static/"))
                again = show(
                    "gzip, next visit (versioned static files kept):",
                    first_load(client, session_id, cached=kept),
                )
            with server.client() as client:
                running = start_session(client, minutes=30)["id"]
            change = step_change_bytes(server, running)
        finally:
            server.stop()
    print(
        f"\nfirst load: {before:,} B -> {after:,} B gzipped ({after / before:.0%}); "
        f"next visit: {again:,} B ({again / before:.0%})"
    )
    print("\na step change (goal <= 5,000 B):")
    for what, size in change.items():
        print(f"  {what:<44} {size:>8,} B")
    print(f"  {'total':<44} {sum(change.values()):>8,} B")


if __name__ == "__main__":
    main()
