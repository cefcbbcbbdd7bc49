"""Shared test fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATA = ROOT / "data"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The read-only ``../shared`` folder; tests using it skip when absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not present on this machine")
    return SHARED


@pytest.fixture(scope="session")
def cases_dir(shared_dir: Path) -> Path:
    path = shared_dir / "cases"
    if not path.is_dir():
        pytest.skip("../shared/cases is not present")
    return path


@pytest.fixture(scope="session")
def baise_shared(shared_dir: Path) -> Path:
    path = shared_dir / "data" / "baise"
    if not path.is_dir():
        pytest.skip("../shared/data/baise is not present")
    return path


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The project's committed default dataset."""
    return DATA
