"""The web app: pages, the JSON API, the live stream and the static files, on one store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware

from backrub import __version__
from backrub.live import clock_speed
from backrub.store import Store
from backrub.web import (
    account_pages,
    api,
    collector,
    csrf_token,
    errors,
    live_page,
    offline,
    pages,
    pairing,
    remote_page,
    review_pages,
    techniques,
)
from backrub.web.auth import LoginGate
from backrub.web.csrf import OriginCheck
from backrub.web.csrf_token import LocalTokenGate, new_local_token
from backrub.web.hosts import LOCAL_NAMES, HostCheck
from backrub.web.hot_routes import App, HotRoutes, hosted_gate
from backrub.web.hub import Hub
from backrub.web.limits import BodyLimit
from backrub.web.notify import Notifier, libpq_url
from backrub.web.pairing import Pairing, PairingGate
from backrub.web.security import SecurityHeaders
from backrub.web.settings import HostedSettings, hosted_settings
from backrub.web.static_files import STATIC, VersionedStaticFiles

# Below this a reply goes out as it is: gzip would save a few bytes at best.
GZIP_MINIMUM = 500


@dataclass(frozen=True)
class WebSettings:
    database_url: str | None = None  # None: BACKRUB_DATABASE_URL or the user's data folder
    speed: float = 1.0  # the session clock's speed-up (tests and demos)
    pairing: Pairing | None = None  # set with --lan: every device must pair first
    hosted: HostedSettings | None = None  # set with --hosted: accounts, many households
    # Not hosted: the host names answered besides 127.0.0.1, localhost and [::1]: the
    # addresses `backrub serve` printed (with --lan, the machine's address on the network).
    lan_hosts: tuple[str, ...] = ()


def create_hosted_app() -> FastAPI:
    """The app for `backrub serve --hosted`, built in each worker process from the environment
    (Uvicorn imports it by name when it runs several workers)."""
    hosted = hosted_settings()
    return create_app(WebSettings(speed=clock_speed(), hosted=hosted))


def create_app(settings: WebSettings | None = None) -> FastAPI:
    settings = settings or WebSettings()
    hosted = settings.hosted
    database_url = hosted.database_url if hosted is not None else settings.database_url
    store = Store.open(database_url)
    hub = Hub(store, speed=settings.speed)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Several processes on one PostgreSQL database tell each other about new events.
        conninfo = libpq_url(database_url) if database_url else None
        notifier = (
            Notifier(
                conninfo,
                hub.changed_elsewhere,
                hub.changed_everywhere,
                hub.hears,
                logins=store.logins,  # log-ins kept in memory while every ending is heard
                heard=store.heard,  # other processes' events, so catch-ups need not read them
            )
            if conninfo
            else None
        )
        if notifier is None:
            # SQLite: this is the only server process on the file (`serve` runs no more), so
            # the live streams need not look for other servers' events on their own. A
            # terminal guide writing the same session is read at the next look the clock
            # brings (a step's end or a save point) and before every press is stored.
            hub.hears(True)
        try:
            async with collector.young_only():  # no long garbage-collection pauses
                yield
        finally:
            if notifier is not None:
                notifier.close()
            store.close()

    app = App(
        title="backrub",
        version=__version__,
        summary="A guided, seated, clothed back massage: plan, guide live, look back.",
        lifespan=lifespan,
        # FastAPI's /docs and /redoc pages load their scripts from a CDN; nothing here may.
        docs_url=None,
        redoc_url=None,
    )
    app.state.hub = hub
    app.state.pairing = settings.pairing
    app.state.hosted = hosted
    # Local mode's CSRF token, new at each start (hosted mode: each log-in has its own).
    app.state.csrf_token = new_local_token() if hosted is None else None
    errors.install(app)
    app.include_router(api.router)
    app.include_router(techniques.router)
    app.include_router(pages.router)
    app.include_router(live_page.router)
    app.include_router(remote_page.router)  # /session/{id}/remote: the receiver's buttons
    app.include_router(review_pages.router)
    app.include_router(pairing.router)  # /pair: sends to / when there is nothing to pair
    app.include_router(csrf_token.router)  # GET /api/token, for scripts
    app.include_router(offline.router)  # GET /sw.js: the service worker, scope "/"
    app.mount("/static", VersionedStaticFiles(directory=STATIC), name="static")
    if hosted is None:
        # Inside the pairing gate: an unpaired device is told to pair (401), not about tokens.
        app.add_middleware(LocalTokenGate, token=app.state.csrf_token)
    if settings.pairing is not None:
        app.add_middleware(PairingGate, pairing=settings.pairing)
    if hosted is not None:
        # Accounts: sign-up, log-in, and the gate (log-in, CSRF) in front of everyone's data.
        account_pages.install(
            app,
            secret_key=hosted.secret_key.get_secret_value(),
            secure_cookies=hosted.secure_cookies,
        )
    # Outside the gates, which may read a form's body: no one reads more than the cap.
    app.add_middleware(BodyLimit)
    app.add_middleware(OriginCheck)  # both modes: no state change sent by another site's page
    # Requests naming another host (DNS rebinding, a misrouted proxy) get 400, before anything.
    if hosted is not None:
        host_names: dict[str, Any] = {"names": hosted.allowed_hosts, "any_port": True}
    else:
        host_names = {"names": (*settings.lan_hosts, *LOCAL_NAMES)}
    app.add_middleware(HostCheck, **host_names)
    # A database that is away: 503, also when a gate in front of the routes meets it.
    app.add_middleware(errors.UnavailableGuard)
    # Text replies above a few hundred bytes (pages, JSON, CSS, JS, SVG) go out gzipped to a
    # client that accepts it, with `Vary: Accept-Encoding`. Starlette's GZip leaves
    # text/event-stream alone, so the live stream is never held back in a compressor's buffer.
    # Outside the 503 guard: an error page is text too. Level 6: most of 9's gain, less CPU.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM, compresslevel=6)
    # Outermost: every reply, a 503 included, carries the security headers and the worker's id.
    app.add_middleware(SecurityHeaders)
    if settings.pairing is None:
        # In front of it all: the press and the live stream, with the checks above done once
        # (hot_routes.py); any request they do not plainly pass goes through the stack.
        app.hot_routes = HotRoutes(
            app.stack,
            hub=hub,
            hosts=HostCheck(app.stack, **host_names),
            local_token=app.state.csrf_token,
            gate=None if hosted is None else hosted_gate(LoginGate),
        )
    return app
