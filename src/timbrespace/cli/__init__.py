"""The ``timbrespace`` command line (Typer).

Each command is a thin wrapper over one library function. Errors that timbrespace
raises on purpose (:class:`~timbrespace.errors.TimbrespaceError`), usage errors and
file-system errors print one line on stderr and exit with code 2; no traceback. Any
other exception is a bug in timbrespace: one line that says so, exit code 1, and the
traceback only with ``--verbose``. Training stopped by Ctrl-C or SIGTERM
(:class:`~timbrespace.errors.Interrupted`) prints where it stopped and how to resume and
exits 130 or 143, as a shell reports those signals.
"""

from __future__ import annotations

import logging
import os
import re
import sys

import click
import typer

from timbrespace.errors import EvaluationError, Interrupted, TimbrespaceError

try:  # typer >= 0.16 vendors click as typer._click; accept both families of exceptions
    from typer._click import exceptions as _vendored
except ImportError:  # pragma: no cover - older typer
    _vendored = click.exceptions

__all__ = ["app", "main"]

_CLICK_ERRORS = (click.exceptions.ClickException, _vendored.ClickException)
_ABORTS = tuple({click.exceptions.Abort, getattr(typer, "Abort", click.exceptions.Abort)})
_EXITS = tuple({click.exceptions.Exit, getattr(typer, "Exit", click.exceptions.Exit)})
_NO_ARGS = tuple(
    mod.NoArgsIsHelpError for mod in (click.exceptions, _vendored) if hasattr(mod, "NoArgsIsHelpError")
)

def _flags_without_metavar() -> None:
    """Show no ``<bool>`` after a flag (``--progress/--no-progress``) in help: a flag takes no value.

    Typer >= 0.20 prints every option's type, flags included; the type column stays for
    options that take a value.
    """
    from typer.core import TyperOption

    shown = TyperOption.display_type_rich
    if getattr(shown, "_timbrespace", False):
        return

    def display_type_rich(self: TyperOption, ctx: click.Context) -> str | None:
        if self.is_flag and self.metavar is None:
            return None
        return shown(self, ctx)

    display_type_rich._timbrespace = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_flags_without_metavar()

app = typer.Typer(
    name="timbrespace",
    help="Learn disentangled latent spaces of sound: datasets with known factors, "
    "representations, VAEs, disentanglement metrics, and sound out.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from timbrespace import __version__

        typer.echo(f"timbrespace {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug messages."),
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        stream=sys.stderr,
    )


_registered: list[bool] = []


def _register_commands() -> None:
    # Each module adds its commands to ``app``, once; import order is the help order.
    if _registered:
        return
    _registered.append(True)
    from timbrespace.cli import (  # noqa: F401
        benchmark,
        drums,
        encode,
        explore,
        features,
        generate,
        ingest,
        run,
        synths,
        timbre,
        train,
    )

    for module in (run, ingest, generate, synths, features, train, benchmark, encode, timbre, drums, explore):
        module.register(app)


# pydantic's and Typer's phrasing, said as the rest of timbrespace says it
_PLAIN = (
    (re.compile(r"Input should be a valid (integer|number)(, unable to parse string as an? \w+)?"), r"must be an \1"),
    (re.compile(r"Input should be a valid (\w+)[^;]*"), r"must be a valid \1"),
    (re.compile(r"Input should be (greater|less|at least|at most|finite)"), r"must be \1"),
    (re.compile(r"Input should be "), "allowed "),
    (re.compile(r"Extra inputs are not permitted"), "unknown field"),
    (re.compile(r"invalid literal for int\(\) with base 10: ('[^']*')"), r"\1 is not an integer"),
    (re.compile(r"could not convert string to float: ('[^']*')"), r"\1 is not a number"),
)


def _plain(message: str) -> str:
    for pattern, replacement in _PLAIN:
        message = pattern.sub(replacement, message)
    return message.replace("an number", "a number")


def _fail(message: str, code: int = 2) -> None:
    one_line = " ".join(part.strip() for part in message.splitlines() if part.strip())  # e.g. a YAML reader's
    click.echo(f"error: {_plain(one_line)}", err=True)
    sys.exit(code)


def _traceback_if_verbose(exc: BaseException, argv: list[str] | None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if "--verbose" in args or "-v" in args:
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)


def _late_failure(exc: EvaluationError, argv: list[str] | None) -> None:
    """Training kept, a later step failed: one line; a bug in that step exits 1 (traceback with --verbose)."""
    if exc.internal:
        _traceback_if_verbose(exc, argv)
        _fail(f"{exc} (a bug in timbrespace: please report it; --verbose shows the traceback)", code=1)
    _fail(str(exc))


def _internal_error(exc: BaseException, argv: list[str] | None) -> None:
    _traceback_if_verbose(exc, argv)
    click.echo(
        f"error: internal error ({type(exc).__name__}: {str(exc)[:200]}); this is a bug in "
        "timbrespace: please report it (run again with --verbose for the traceback)",
        err=True,
    )
    sys.exit(1)


def _command_options(argv: list[str]) -> set[str]:
    """The option names (``--batch-size``, ...) of the command ``argv`` invokes (none if unknown)."""
    command = typer.main.get_command(app)
    for arg in argv:
        subcommands = getattr(command, "commands", None)
        if arg.startswith("-") or subcommands is None:
            continue
        if arg not in subcommands:
            break
        command = subcommands[arg]
    if getattr(command, "commands", None) is not None:
        return set()
    return {opt for param in command.params for opt in getattr(param, "opts", ())}


def _out_of_memory(argv: list[str]) -> str:
    """The out-of-memory line, with the remedies the invoked command offers."""
    options = _command_options(argv)
    remedies = ["fewer or shorter items"]
    if "--batch-size" in options:
        remedies.append("a smaller --batch-size")
    if "--workers" in options:
        remedies.append("fewer --workers")
    return f"out of memory: use {', or '.join(remedies)}"


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``timbrespace`` console script."""
    os.environ.setdefault("KMP_WARNINGS", "0")
    # One thread per process unless the user says otherwise (OMP_NUM_THREADS, --threads,
    # training.num_threads): on a small shared machine a second torch thread mostly waits.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _register_commands()
    try:
        code = app(args=argv, standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except _EXITS as exc:
        sys.exit(getattr(exc, "exit_code", 0))
    except Interrupted as exc:  # a checkpoint to resume from is saved: not an error
        click.echo(str(exc), err=True)
        sys.exit(128 + exc.signum)
    except EvaluationError as exc:
        _late_failure(exc, argv)
    except TimbrespaceError as exc:
        _fail(str(exc))
    except _NO_ARGS as exc:
        ctx = getattr(exc, "ctx", None)
        click.echo(ctx.get_help() if ctx else str(exc))
        sys.exit(0)
    except _CLICK_ERRORS as exc:
        ctx = getattr(exc, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        _fail(f"{exc.format_message()}{hint}")
    except _ABORTS:
        _fail("aborted")
    except (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError) as exc:
        _fail(f"{exc.strerror or exc}: {exc.filename}" if getattr(exc, "filename", None) else str(exc))
    except OSError as exc:
        _fail(f"{exc}")
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except MemoryError:
        _fail(_out_of_memory(sys.argv[1:] if argv is None else argv))
    except Exception as exc:
        _internal_error(exc, argv)
