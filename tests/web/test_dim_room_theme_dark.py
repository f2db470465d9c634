"""The dim-room theme on a dark device (test_dim_room_theme.py says what is checked): every page
walked at phone and desk size on SQLite, each following the device and passing axe."""

from __future__ import annotations

import pytest

from tests.web.conftest import PageAt, Screenshot
from tests.web.theme_walk import DESK, PHONE, Size, walk_and_check
from tests.webserver import Server


@pytest.mark.parametrize("web_server", ["sqlite"], indirect=True)
@pytest.mark.parametrize("size", [PHONE, DESK], ids=["phone", "desk"])
def test_every_page_follows_a_dark_device_and_passes_axe(
    page_at: PageAt, web_server: Server, screenshot: Screenshot, size: Size
) -> None:
    walk_and_check(page_at, web_server, screenshot, "dark", size)
