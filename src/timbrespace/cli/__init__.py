"""The ``timbrespace`` command line (Typer).

Each command is a thin wrapper over one library function. Errors that timbrespace
raises on purpose (:class:`~timbrespace.errors.TimbrespaceError`), usage errors and
file-system errors print one line on stderr and exit with code 2; no traceback.
"""

from __future__ import annotations

import logging
import os
import sys

import click
import typer

from timbrespace.errors import TimbrespaceError

__all__ = ["app", "main"]

app = typer.Typer(
    name="timbrespace",
    help="Learn disentangled latent spaces of sound: datasets with known factors, "
    "representations, VAEs, disentanglement metrics, and sound out.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug messages."),
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        stream=sys.stderr,
    )


def _register_commands() -> None:
    # Each module adds its commands to ``app``; import order is the help order.
    from timbrespace.cli import (  # noqa: F401
        drums,
        features,
        generate,
        ingest,
        run,
        synths,
        timbre,
        train,
    )

    for module in (run, ingest, generate, synths, features, train, timbre, drums):
        module.register(app)


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``timbrespace`` console script."""
    os.environ.setdefault("KMP_WARNINGS", "0")
    _register_commands()
    try:
        app(args=argv, standalone_mode=False)
    except TimbrespaceError as exc:
        _fail(str(exc))
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        sys.exit(0)
    except click.exceptions.ClickException as exc:
        exc.show()
        sys.exit(2 if exc.exit_code not in (0,) else 0)
    except click.exceptions.Abort:
        _fail("aborted")
    except (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError) as exc:
        _fail(f"{exc.strerror or exc}: {exc.filename}" if getattr(exc, "filename", None) else str(exc))
    except OSError as exc:
        _fail(f"{exc}")
    except KeyboardInterrupt:
        _fail("interrupted")
