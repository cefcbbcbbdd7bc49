"""Open the generated maps in headless Chromium (Playwright).

Skips when Playwright or Debian's ``chromium`` is missing. The browser runs
with every http(s) request aborted, so a page that still needs the network
fails here.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from riskmap.maps import _example_layers, city_map, county_map, save_map

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
HOSTILE = [
    "<b>Warehouse</b> & Depot </script>",
    "Line one\nline two",
    "Back\\slash and 'quote\" mix",
    "右江区“第一”中学 安置点",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    counties, grid, facilities = _example_layers()
    hostile = gpd.GeoDataFrame(
        {
            "facility_id": [f"X{i}" for i in range(len(HOSTILE))],
            "name": HOSTILE,
            "kind": "shelter",
            "adcode": "451002",
            "capacity_people": np.array([0, 90, 60, 800]),
            "last_inspected": pd.Timestamp("2024-03-15T07:45:00+08:00"),
        },
        geometry=gpd.points_from_xy([106.590, 106.600, 106.585, 106.605], [23.93] * 4),
        crs=4326,
    )
    facilities = gpd.GeoDataFrame(
        pd.concat([facilities, hostile], ignore_index=True), crs=4326
    )
    folder = tmp_path_factory.mktemp("maps")
    return {
        "city": save_map(city_map(counties, grid, facilities), folder / "index.html"),
        "county": save_map(
            county_map("451002", counties, grid, facilities), folder / "451002.html"
        ),
    }


class PageWatch:
    """Collects JS errors and blocked network requests of one page."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("console", self._console)
        page.route("**/*", self._route)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            self.requests.append(url)
            route.abort()


def _open(browser: Any, path: Path) -> tuple[Any, PageWatch]:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    watch = PageWatch(page)
    page.goto(path.as_uri())
    page.wait_for_selector(".leaflet-control-layers")
    page.wait_for_timeout(500)
    return page, watch


def _screenshot(page: Any, name: str, tmp_path: Path) -> Path:
    out = ROOT / "outputs" / "browser"
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError:
        out = tmp_path
    path = out / name
    page.screenshot(path=str(path))
    return path


@pytest.mark.parametrize("which", ["city", "county"])
def test_map_loads_offline_without_errors(
    browser: Any, pages: dict[str, Path], which: str, tmp_path: Path
) -> None:
    page, watch = _open(browser, pages[which])
    labels = page.locator(".leaflet-control-layers-overlays label").all_text_contents()
    joined = " | ".join(labels)
    for name in ("Flood index", "Population", "Shelter", "Helicopter reach"):
        assert name in joined
    assert "风险等级" in joined
    assert "图例 Legend" in page.locator(".rm-legend").text_content()
    assert page.locator(".leaflet-control-scale").count() == 1
    assert page.locator(".leaflet-control-zoom-fullscreen").count() == 1
    assert page.locator(".leaflet-control-measure").count() == 1
    assert page.locator("path.leaflet-interactive").count() >= 3  # counties
    shown_images = page.locator(".leaflet-image-layer").count()
    assert shown_images == (1 if which == "county" else 0)  # risk grid
    shot = _screenshot(page, f"{which}.png", tmp_path)
    assert shot.stat().st_size > 10_000
    assert watch.errors == []
    assert watch.requests == []
    page.close()


def test_popup_shows_hostile_text_literally(
    browser: Any, pages: dict[str, Path], tmp_path: Path
) -> None:
    page, watch = _open(browser, pages["county"])
    for name in HOSTILE:
        markers = page.locator(".leaflet-marker-icon[title]")
        index = markers.evaluate_all(
            "(els, name) => els.findIndex(e => e.getAttribute('title') === name)",
            name,
        )
        assert index >= 0, f"no marker titled {name!r}"
        markers.nth(index).dispatch_event("click")
        popup = page.locator(".leaflet-popup-content").last
        popup.wait_for()
        assert popup.locator("th").text_content() == name
        assert popup.locator("b, script").count() == 0
    page.wait_for_timeout(400)  # let the previous popups fade out
    _screenshot(page, "county_popup.png", tmp_path)
    assert watch.errors == []
    assert watch.requests == []
    page.close()


def test_layer_can_be_switched_on(browser: Any, pages: dict[str, Path]) -> None:
    page, watch = _open(browser, pages["county"])
    before = page.locator(".leaflet-image-layer").count()
    page.locator(
        ".leaflet-control-layers-overlays label:has-text('Flood index') input"
    ).check()
    assert page.locator(".leaflet-image-layer").count() == before + 1
    assert watch.errors == []
    page.close()
