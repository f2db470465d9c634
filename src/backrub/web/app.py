"""The web app: pages, the JSON API, the live stream and the static files, on one store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from backrub import __version__
from backrub.store import Store
from backrub.web import api, errors, live_page, pages, pairing, review_pages
from backrub.web.hub import Hub
from backrub.web.pairing import Pairing, PairingGate
from backrub.web.security import SecurityHeaders

STATIC = Path(str(resources.files("backrub.web").joinpath("static")))


@dataclass(frozen=True)
class WebSettings:
    database_url: str | None = None  # None: BACKRUB_DATABASE_URL or the user's data folder
    speed: float = 1.0  # the session clock's speed-up (tests and demos)
    pairing: Pairing | None = None  # set with --lan: every device must pair first


def create_app(settings: WebSettings | None = None) -> FastAPI:
    settings = settings or WebSettings()
    store = Store.open(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        store.close()

    app = FastAPI(
        title="backrub",
        version=__version__,
        summary="A guided, seated, clothed back massage: plan, guide live, look back.",
        lifespan=lifespan,
        # FastAPI's /docs and /redoc pages load their scripts from a CDN; nothing here may.
        docs_url=None,
        redoc_url=None,
    )
    app.state.hub = Hub(store, speed=settings.speed)
    app.state.pairing = settings.pairing
    errors.install(app)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(live_page.router)
    app.include_router(review_pages.router)
    app.include_router(pairing.router)  # /pair: sends to / when there is nothing to pair
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    if settings.pairing is not None:
        app.add_middleware(PairingGate, pairing=settings.pairing)
    app.add_middleware(SecurityHeaders)
    return app
