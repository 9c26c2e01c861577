"""The rich console every command prints through."""

from __future__ import annotations

import sys

from rich.console import Console

PIPED_WIDTH = 200
"""Columns of output that goes to a file or a pipe (a terminal's own width otherwise)."""


def console() -> Console:
    """A console whose text is never hard-wrapped: long lines stay one line when piped,
    and tables get :data:`PIPED_WIDTH` columns instead of rich's default 80."""
    return Console(soft_wrap=True, width=None if sys.stdout.isatty() else PIPED_WIDTH)
