"""Property tests: any attribute text goes through map export unharmed."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskmap import maps
from riskmap._io import safe_filename, within

LAYERS = maps._example_layers()

# any text a planner might type, including markup, quotes and control chars
odd_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40
) | st.sampled_from(["</script>", "<b>x</b>", "a\u2028b", "`${x}`", "\"'\\", "../.."])


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(name=odd_text, county=odd_text)
def test_any_name_is_exported_as_data_not_markup(
    name: str, county: str, tmp_path: Path
) -> None:
    counties, grid, facilities = (layer.copy() for layer in LAYERS)
    facilities["name"] = name
    counties.loc[counties.index[0], "name"] = county
    m = maps.county_map("451002", counties, grid, facilities)
    page = maps.save_map(m, tmp_path / "m.html").read_text(encoding="utf-8")
    # user text never closes the script or opens a tag of its own
    assert page.count("</script>") == page.count("<script")
    # and survives unchanged, as escaped JSON data
    assert maps._js_json(name)[1:-1] in page


@given(name=odd_text)
def test_file_names_never_leave_the_folder(name: str) -> None:
    base = Path("/tmp/riskmap-out")
    path = within(base, name)
    assert base.resolve() in path.parents
    assert "/" not in safe_filename(name)
    assert safe_filename(name) not in {"", ".", ".."}


def test_hostile_county_name_stays_literal(tmp_path: Path) -> None:
    counties, grid, facilities = (layer.copy() for layer in LAYERS)
    facilities["name"] = "<b>Warehouse</b> & Depot </script>"
    m = maps.county_map("451002", counties, grid, facilities)
    page = maps.save_map(m, tmp_path / "m.html").read_text(encoding="utf-8")
    assert "<b>Warehouse</b>" not in page
    assert "\\u003cb\\u003eWarehouse\\u003c/b\\u003e \\u0026 Depot" in page
