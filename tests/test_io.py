"""Atomic outputs: a run killed midway leaves earlier results intact."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from riskmap._io import atomic_path, safe_filename, within, write_text_atomic

# writes half a file through atomic_path, says so, then waits to be killed
_WRITER = textwrap.dedent(
    """
    import signal, sys, time
    from riskmap._io import atomic_path

    if sys.argv[2] == "handle-term":
        # what a CLI does: turn SIGTERM into a normal exit so clean-up runs
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with atomic_path(sys.argv[1]) as tmp:
        with open(tmp, "w", encoding="utf-8") as out:
            out.write("partial " * 10000)
            out.flush()
            print("writing", flush=True)
            time.sleep(60)
            out.write("end")
    """
)


@pytest.mark.parametrize(
    ("sig", "mode"),
    [
        (signal.SIGKILL, "plain"),
        (signal.SIGTERM, "plain"),
        (signal.SIGTERM, "handle-term"),
    ],
)
def test_killed_writer_leaves_previous_output(
    tmp_path: Path, sig: signal.Signals, mode: str
) -> None:
    target = tmp_path / "counties.csv"
    write_text_atomic(target, "adcode,risk\n451002,0.4\n")
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(target), mode],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "writing"
        proc.send_signal(sig)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    assert proc.returncode != 0
    assert target.read_text(encoding="utf-8") == "adcode,risk\n451002,0.4\n"
    others = sorted(p.name for p in tmp_path.iterdir() if p != target)
    # only hidden temporaries may be left, never a partial file by the name
    assert all(name.startswith(".tmp-counties-") for name in others)
    if mode == "handle-term":
        assert others == []


def test_failed_block_keeps_previous_output(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    write_text_atomic(target, "old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("new, half", encoding="utf-8")
        raise RuntimeError("boom")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


@pytest.mark.parametrize(
    "name", ["../../outside", "田阳县/田阳区", "那坡县:旧?*", "..", ""]
)
def test_data_derived_names_stay_in_folder(tmp_path: Path, name: str) -> None:
    path = within(tmp_path, name)
    assert path.parent == tmp_path.resolve()
    assert safe_filename(name)
