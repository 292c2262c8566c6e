"""Shared pieces of the command line: exit codes, error handling, JSON output.

Exit codes (STYLE.md §9): 0 verified/ok, 1 checked and failed, 2 usage or input error.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, NoReturn, ParamSpec, TypeVar

import click

from idcard.errors import IdkartaError

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "echo_json", "fail", "handle_errors"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

P = ParamSpec("P")
T = TypeVar("T")


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print one line to stderr and exit with ``code``."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def handle_errors(func: Callable[P, T]) -> Callable[P, T]:
    """Turn any :class:`IdkartaError` escaping a command into one line and exit 2."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return func(*args, **kwargs)
        except IdkartaError as exc:
            fail(str(exc), EXIT_USAGE)

    return wrapper


def echo_json(obj: Any) -> None:
    """Print ``obj`` as indented JSON (bytes as upper-case hex)."""

    def default(o: object) -> object:
        if isinstance(o, bytes | bytearray):
            return bytes(o).hex().upper()
        if hasattr(o, "isoformat"):
            return o.isoformat()
        raise TypeError(f"not JSON serialisable: {type(o).__name__}")

    click.echo(json.dumps(obj, indent=2, ensure_ascii=False, default=default))
