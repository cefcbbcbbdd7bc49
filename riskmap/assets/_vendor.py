"""Refresh the vendored web assets from the npm registry.

Run from the repository root with Node's ``npm`` on the PATH::

    python -m riskmap.assets._vendor

Each package listed in :data:`PACKAGES` is fetched with ``npm pack``
(pinned version), and the files the maps need, plus the package's licence,
are copied into ``riskmap/assets/vendor/<package>/``. Nothing is built or
modified: the files are the ones published on the registry. Update
``ASSETS.md`` when a version changes.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
VENDOR = HERE / "vendor"

#: npm package spec -> files (relative to the package root) to copy.
PACKAGES: dict[str, tuple[str, ...]] = {
    "leaflet@1.9.4": (
        "dist/leaflet.js",
        "dist/leaflet.css",
        "dist/images/layers.png",
        "dist/images/layers-2x.png",
        "dist/images/marker-icon.png",
        "dist/images/marker-icon-2x.png",
        "dist/images/marker-shadow.png",
        "LICENSE",
    ),
    "leaflet.fullscreen@3.0.0": (
        "Control.FullScreen.js",
        "Control.FullScreen.css",
        "icon-fullscreen.svg",
        "LICENSE",
    ),
    "leaflet-measure@2.1.7": (
        "dist/leaflet-measure.min.js",
        "dist/leaflet-measure.css",
        "dist/images/cancel.png",
        "dist/images/cancel_@2X.png",
        "dist/images/check.png",
        "dist/images/check_@2X.png",
        "dist/images/focus.png",
        "dist/images/focus_@2X.png",
        "dist/images/rulers.png",
        "dist/images/rulers_@2X.png",
        "dist/images/start.png",
        "dist/images/start_@2X.png",
        "dist/images/trash.png",
        "dist/images/trash_@2X.png",
        "LICENSE",
    ),
}


def package_dir(spec: str) -> Path:
    """Return the vendor folder of an npm ``name@version`` spec.

    Examples
    --------
    >>> package_dir("leaflet@1.9.4").name
    'leaflet'
    """
    return VENDOR / spec.rsplit("@", 1)[0]


def _extract(tgz: Path, files: tuple[str, ...], dest: Path) -> None:
    with tarfile.open(tgz) as tar:
        for rel in files:
            member = tar.getmember(f"package/{rel}")
            src = tar.extractfile(member)
            if src is None:
                raise FileNotFoundError(f"{rel} is missing from {tgz.name}")
            target = dest / rel.removeprefix("dist/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(src.read())


def refresh(packages: dict[str, tuple[str, ...]] = PACKAGES) -> None:
    """Download every package with ``npm pack`` and copy its files."""
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not on the PATH; install Node.js to refresh")
    with tempfile.TemporaryDirectory() as tmp:
        for spec, files in packages.items():
            logger.info("fetching %s", spec)
            out = subprocess.run(
                [npm, "pack", spec, "--silent"],
                cwd=tmp,
                check=True,
                capture_output=True,
                text=True,
            )
            tgz = Path(tmp) / out.stdout.strip().splitlines()[-1]
            dest = package_dir(spec)
            if dest.exists():
                shutil.rmtree(dest)
            _extract(tgz, files, dest)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    refresh()
