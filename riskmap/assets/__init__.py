"""Vendored Leaflet assets and the helper that inlines them into a page.

Folium's pages load Leaflet and plugin files from CDNs. A bureau's intranet
cannot reach those, so :func:`inline_page` swaps every ``<script src>`` and
``<link href>`` that points at a known CDN file for the same file from
``vendor/`` (see ``ASSETS.md``), with images referenced by the CSS turned
into ``data:`` URIs. A page that still refers to an unknown external file is
refused, so a new folium release cannot silently bring a CDN back.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from functools import cache
from pathlib import Path

__all__ = ["VENDOR", "external_references", "inline_page", "vendored_file"]

VENDOR = Path(__file__).resolve().parent / "vendor"

#: File name at the end of a CDN URL -> vendored file (relative to VENDOR).
_BY_BASENAME: dict[str, str] = {
    "leaflet.js": "leaflet/leaflet.js",
    "leaflet.css": "leaflet/leaflet.css",
    "Control.FullScreen.min.js": "leaflet.fullscreen/Control.FullScreen.js",
    "Control.FullScreen.js": "leaflet.fullscreen/Control.FullScreen.js",
    "Control.FullScreen.css": "leaflet.fullscreen/Control.FullScreen.css",
    "leaflet-measure.min.js": "leaflet-measure/leaflet-measure.min.js",
    "leaflet-measure.js": "leaflet-measure/leaflet-measure.min.js",
    "leaflet-measure.min.css": "leaflet-measure/leaflet-measure.css",
    "leaflet-measure.css": "leaflet-measure/leaflet-measure.css",
}

_SCRIPT = re.compile(
    r"<script\b[^>]*\bsrc=[\"'](?P<url>https?://[^\"']+)[\"'][^>]*>\s*</script>",
    re.IGNORECASE,
)
_LINK = re.compile(
    r"<link\b[^>]*\bhref=[\"'](?P<url>https?://[^\"']+)[\"'][^>]*/?>",
    re.IGNORECASE,
)
_CSS_URL = re.compile(r"url\((?P<q>[\"']?)(?P<ref>[^)\"']+)(?P=q)\)")
_EXTERNAL = re.compile(
    r"""(?:\bsrc=|<link\b[^>]*\bhref=|url\()\s*["']?"""
    r"""(?P<url>(?:https?:)?//[^"')\s>]+)""",
    re.IGNORECASE,
)


def vendored_file(url: str) -> Path | None:
    """Return the vendored copy of a CDN ``url``, or None if there is none.

    Examples
    --------
    >>> vendored_file("https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js").name
    'leaflet.js'
    >>> vendored_file("https://example.org/other.js") is None
    True
    """
    rel = _BY_BASENAME.get(url.rsplit("/", 1)[-1].split("?", 1)[0])
    return None if rel is None else VENDOR / rel


def _data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode()


@cache
def _css_inlined(path: Path) -> str:
    def repl(match: re.Match[str]) -> str:
        ref = match.group("ref")
        target = (path.parent / ref).resolve()
        if ref.startswith(("data:", "#")) or not target.is_file():
            return match.group(0)
        return f'url("{_data_uri(target)}")'

    return _CSS_URL.sub(repl, path.read_text(encoding="utf-8"))


@cache
def _js_text(path: Path) -> str:
    # A literal "</script" inside the file would end the inline element.
    return path.read_text(encoding="utf-8").replace("</script", "<\\/script")


def external_references(html: str) -> list[str]:
    """List the external (http, https or protocol-relative) files a page loads.

    Only what a browser fetches by itself counts (``src=``, ``<link href>``,
    CSS ``url()``); ordinary ``<a href>`` links do not.

    Examples
    --------
    >>> external_references('<img src="https://a.org/x.png"><a href="//b.org">b</a>')
    ['https://a.org/x.png']
    """
    return [m.group("url") for m in _EXTERNAL.finditer(html)]


def inline_page(html: str, *, allow: tuple[str, ...] = ()) -> str:
    """Replace CDN scripts and stylesheets in ``html`` with inline copies.

    Parameters
    ----------
    html : str
        A rendered page (for example from ``folium.Map.get_root().render()``).
    allow : tuple of str
        URL prefixes that may stay external (a planner's own tile server).

    Returns
    -------
    str
        The page with every known asset inlined.

    Raises
    ------
    ValueError
        If the page still refers to an external file that is neither
        vendored nor allowed.

    Examples
    --------
    >>> page = '<script src="https://cdn.x/leaflet@1.9.3/dist/leaflet.js"></script>'
    >>> out = inline_page(page)
    >>> out.startswith("<script>") and "cdn.x" not in out
    True
    """

    def script(match: re.Match[str]) -> str:
        path = vendored_file(match.group("url"))
        if path is None:
            return match.group(0)
        return f"<script>/* {path.parent.name} */\n{_js_text(path)}\n</script>"

    def link(match: re.Match[str]) -> str:
        path = vendored_file(match.group("url"))
        if path is None:
            return match.group(0)
        return f"<style>/* {path.parent.name} */\n{_css_inlined(path)}\n</style>"

    left = [
        url
        for url in external_references(html)
        if vendored_file(url) is None and not url.startswith(allow)
    ]
    if left:
        raise ValueError(
            f"the page still loads {len(left)} external file(s) that are not "
            f"vendored, e.g. {left[0]!r}; add them to riskmap/assets or drop "
            "the element that needs them"
        )
    return _LINK.sub(link, _SCRIPT.sub(script, html))
