"""Names from user data that become parts of paths, checked before anything is written.

A name that comes from a config, a metadata file, a folder of recordings or a dataset
(DSGenerator's ``user_pname``, an ``item_id`` column, a factor's name or value, ...) and
becomes a file or folder name must stay ONE name: :func:`safe_name` refuses ``..``,
path separators (``/`` and ``\\``), and NUL and other control characters, so the path
it is joined into cannot leave its folder. A relative path that a metadata file gives
(an audiofolder's ``file_name``, a dataset's ``audio_path``, a drum kit's sample) is
checked part by part with :func:`safe_relpath`. The checks are on the text, so links the
user made inside their own folders are followed as before.

Each refusal is one line naming the field, the value and why, raised as ``error``
(:class:`~timbrespace.errors.ParameterError` by default), so a command refuses the
input before it creates anything.

Examples
--------
>>> safe_name("rate_exp", what="user_pname")
'rate_exp'
>>> safe_name("../x", what="user_pname")
Traceback (most recent call last):
...
timbrespace.errors.ParameterError: user_pname='../x' cannot be part of a file name: it contains the path separator '/'
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath

from timbrespace.errors import ParameterError, TimbrespaceError

__all__ = ["name_problem", "safe_name", "safe_relpath"]

_SEPARATORS = ("/", "\\")
_DRIVE = re.compile(r"^[A-Za-z]:")


def name_problem(value: str) -> str | None:
    """Why ``value`` cannot be one file or folder name, or None when it can.

    Refused: the empty string, ``.`` and ``..``, ``/`` and ``\\`` (both separators, so a
    name stays one name on every system), and control characters (NUL, newline, ...:
    Unicode category ``Cc``).
    """
    if not value:
        return "it is empty"
    if value in (".", ".."):
        return f"{value!r} names a folder, not a file"
    for sep in _SEPARATORS:
        if sep in value:
            return f"it contains the path separator {sep!r}"
    for ch in value:
        if unicodedata.category(ch) == "Cc":
            return f"it contains the control character {ch!r}"
    return None


def safe_name(value: object, *, what: str, error: type[TimbrespaceError] = ParameterError) -> str:
    """``str(value)``, checked to be one file or folder name (see :func:`name_problem`).

    Parameters
    ----------
    value : object
        The name (a string, or a number shown in a file name).
    what : str
        The field it comes from, named in the error (``params[0].user_pname``).
    error : type of TimbrespaceError
        Raised on refusal (default :class:`~timbrespace.errors.ParameterError`).

    Returns
    -------
    str

    Raises
    ------
    error
        ``what=value cannot be part of a file name: <why>``.
    """
    text = str(value)
    problem = name_problem(text)
    if problem is not None:
        raise error(f"{what}={text!r} cannot be part of a file name: {problem}")
    return text


def safe_relpath(value: object, *, what: str, error: type[TimbrespaceError] = ParameterError) -> PurePosixPath:
    """A relative path of safe names joined by ``/``, e.g. an audiofolder's ``file_name``.

    ``.`` parts and repeated slashes are dropped; an absolute path (``/x``, ``\\x``,
    ``C:x``), a ``..`` part, a backslash or a control character is refused.

    Returns
    -------
    pathlib.PurePosixPath
        The path without its ``.`` parts.

    Raises
    ------
    error
        ``what=value`` and why, as :func:`safe_name`.
    """
    text = str(value)
    if text.startswith(_SEPARATORS) or _DRIVE.match(text):
        raise error(f"{what}={text!r} is an absolute path; give a path relative to its folder")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if not parts:
        raise error(f"{what}={text!r} names no file")
    for part in parts:
        if part == "..":
            raise error(f"{what}={text!r} leaves its folder ('..'); give a path inside it")
        problem = name_problem(part)
        if problem is not None:
            raise error(f"{what}={text!r} cannot be a relative file path: {problem}")
    return PurePosixPath(*parts)
