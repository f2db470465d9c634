"""The dim-room theme's walk once more on PostgreSQL (test_dim_room_theme.py says what is
checked), for the pages that read and write the store: plan, live, summary, history, the
receiver."""

from __future__ import annotations

import pytest

from tests.web.conftest import PageAt, Screenshot
from tests.web.theme_walk import PHONE, walk_and_check
from tests.webserver import Server


@pytest.mark.parametrize("web_server", ["postgresql"], indirect=True)
def test_every_page_on_postgresql_follows_the_device_and_passes_axe(
    page_at: PageAt, web_server: Server, screenshot: Screenshot
) -> None:
    walk_and_check(page_at, web_server, screenshot, "dark", PHONE)
