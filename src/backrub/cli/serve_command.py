"""`backrub serve`: the web app on this machine (127.0.0.1), or on the local network with --lan.

With --lan every device (this computer's browser too) must pair first with a 6-digit code that
is new at every start and printed in the terminal, as text and as a QR code holding the link.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import sys
from typing import Annotated

import typer

from backrub.errors import BackrubError
from backrub.live import clock_speed

DEFAULT_PORT = 8765
LOCAL_HOST = "127.0.0.1"
LAN_HOST = "0.0.0.0"
# Seconds an idle keep-alive connection stays open (Uvicorn's default is 5). A giver presses
# about every 10 s: with 5 s nearly every press came on a new connection, and with several
# workers that one lands on any of them, so a worker that did not hold the session yet loaded
# it (read and replayed its log) during the press: most of PostgreSQL's slowest presses.
# 75 s, as nginx keeps a client's connection.
KEEP_IDLE = 75
# A private address to "connect" a UDP socket to: nothing is sent, but the system picks the
# network interface (and so the address) it would use to reach the local network.
PROBE_ADDRESS = ("10.255.255.255", 1)
HOST_NAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")


def check_host(host: str) -> str:
    """An IP address or a plain host name; anything else (a URL, a port, spaces) is refused."""
    text = host.strip()
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    if HOST_NAME.match(text):
        return text
    raise BackrubError(
        f"{host!r} is not an address to listen on; expected an IP address such as "
        f"{LAN_HOST} or 192.168.1.20, or a host name",
        where="--host",
    )


def is_this_machine_only(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def lan_address() -> str:
    """This machine's address on the local network, or 127.0.0.1 when there is none."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(PROBE_ADDRESS)  # UDP: sets the route, sends nothing
            address = str(probe.getsockname()[0])
    except OSError:
        return LOCAL_HOST
    if not address or address == LAN_HOST:
        return LOCAL_HOST
    return address


def url(host: str, port: int, path: str = "/") -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}{path}"


def addresses(host: str) -> list[str]:
    """Where devices can reach a server listening on `host`: the LAN address first."""
    if host in (LAN_HOST, "::"):
        found = lan_address()
        return list(dict.fromkeys([found, LOCAL_HOST]))
    return [host]


def print_qr(link: str) -> None:
    import segno

    try:
        segno.make(link).terminal(compact=True)
    except UnicodeEncodeError:  # a terminal without block characters: the link is printed anyway
        print("(this terminal cannot draw the QR code)")


def announce_lan(host: str, port: int, code: str) -> None:
    """Everything a person needs to connect a phone: the URLs, the code and the QR code."""
    reachable = addresses(host)
    pair_link = url(reachable[0], port, f"/pair?code={code}")
    print(
        f"backrub is serving on {url(reachable[0], port)} on the local network.\n"
        "Only devices with the pairing code can connect; each device (this computer's "
        "browser too) pairs once.",
    )
    for address in reachable:
        print(f"  Open {url(address, port)}")
    print(f"Pairing code: {code}  (new each time the server starts)")
    print("Or scan this QR code with the phone's camera to open backrub and pair at once:")
    print_qr(pair_link)
    print(f"  {pair_link}")
    print("Ctrl-C stops the server.", flush=True)


def serve(
    host: Annotated[
        str | None,
        typer.Option(
            "--host",
            help=f"Address to listen on. Default: {LOCAL_HOST} (only this machine), "
            f"or {LAN_HOST} (every network) with --lan.",
            show_default=False,
        ),
    ] = None,
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = DEFAULT_PORT,
    lan: Annotated[
        bool,
        typer.Option(
            "--lan",
            help="Serve phones and tablets on the local network. Every device must first "
            "type the pairing code printed here (or scan the QR code).",
        ),
    ] = False,
    hosted: Annotated[
        bool,
        typer.Option(
            "--hosted",
            help="Many households: accounts and log-in, settings from BACKRUB_* environment "
            "variables (see docs/deploy.md). Put it behind an HTTPS reverse proxy.",
        ),
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            help="Server processes for --hosted (default: BACKRUB_WORKERS or 1); several "
            "need PostgreSQL.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve the web app: plan, guide a session on a phone, look back. Ctrl-C stops it."""
    if not 0 < port < 65536:
        raise BackrubError(f"{port} is not a port; expected 1 to 65535", where="--port")
    if hosted:
        if lan:
            raise BackrubError("--hosted has accounts; --lan is for one household", where="--lan")
        serve_hosted(check_host(host) if host is not None else LOCAL_HOST, port, workers)
        return
    if workers is not None:
        raise BackrubError("several workers are for --hosted (with PostgreSQL)", where="--workers")
    bind = check_host(host) if host is not None else (LAN_HOST if lan else LOCAL_HOST)
    if not lan and not is_this_machine_only(bind):
        raise BackrubError(
            f"{bind} opens backrub to other machines; add --lan so every device must pair "
            "with a code first",
            where="--host",
        )
    speed = clock_speed()
    # Imported here: the web stack is heavy, and the other commands do not need it.
    import uvicorn

    from backrub.web.app import WebSettings, create_app
    from backrub.web.pairing import COOKIE, Pairing

    # The port in the cookie's name: two servers on one machine do not unpair each other.
    pairing = Pairing.new(cookie=f"{COOKIE}_{port}") if lan else None
    # The Host check answers only to this machine's names and the addresses printed below
    # (`--host 127.0.0.2` prints that one; --lan the network address).
    printed = tuple(addresses(bind))
    app = create_app(WebSettings(speed=speed, pairing=pairing, lan_hosts=printed))
    if pairing is None:
        print(f"backrub is serving on {url(bind, port)}  (Ctrl-C stops it)", flush=True)
    else:
        announce_lan(bind, port, pairing.code)
    uvicorn.run(
        app,
        host=bind,
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=2,
        timeout_keep_alive=KEEP_IDLE,
    )


def serve_hosted(bind: str, port: int, workers: int | None) -> None:
    """Check the settings here, so a bad one stops the start with one line, then start the
    workers: each builds its app from the same environment."""
    import os

    from sqlalchemy import make_url

    from backrub.store.engine import is_postgresql
    from backrub.web.passwords import INSECURE_HASHES_WARNING, insecure_hashes
    from backrub.web.settings import MAX_WORKERS, hosted_settings

    settings = hosted_settings()
    count = workers if workers is not None else settings.workers
    if not 1 <= count <= MAX_WORKERS:
        raise BackrubError(f"{count} workers; expected 1 to {MAX_WORKERS}", where="--workers")
    if count > 1 and not is_postgresql(make_url(settings.database_url)):
        raise BackrubError(
            "several workers share one database only on PostgreSQL; use --workers 1 with SQLite",
            where="--workers",
        )
    clock_speed()  # a bad BACKRUB_GUIDE_SPEED is refused here too, not in each worker
    import uvicorn

    from backrub.store import Store

    # Migrate once, before the workers start, so they do not race to upgrade the schema.
    Store.open(settings.database_url).close()
    os.environ["BACKRUB_WORKERS"] = str(count)
    if insecure_hashes():  # the test suite's servers only
        print(INSECURE_HASHES_WARNING, file=sys.stderr, flush=True)
    print(
        f"backrub (hosted, {count} worker{'s' if count > 1 else ''}) is serving on "
        f"{url(bind, port)}  (Ctrl-C stops it)",
        flush=True,
    )
    uvicorn.run(
        "backrub.web.app:create_hosted_app",
        factory=True,
        host=bind,
        port=port,
        workers=count,
        log_level="warning",
        timeout_graceful_shutdown=2,
        timeout_keep_alive=KEEP_IDLE,
        proxy_headers=True,
    )
