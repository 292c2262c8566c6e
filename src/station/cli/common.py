"""Shared pieces of the command line: exit codes, error handling, JSON output, the root group.

Exit codes (STYLE.md §9): 0 verified/ok, 1 checked and failed, 2 usage or input error. A failure
is one line ``error: …`` on standard error and, when the command was given ``--json``, the object
``{"error": …, "exit": N}`` on standard output (:func:`report_failure`). :class:`IdkartaGroup`, the
root ``idkarta`` group, does this for click's own usage errors and for any
:class:`~idcard.errors.IdkartaError` a command lets through, and ends quietly when standard output
is a pipe closed by its reader (``idkarta dump show X | head``).
"""

from __future__ import annotations

import errno
import functools
import importlib
import json
import os
import signal
import sys
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from contextvars import ContextVar
from typing import Any, NoReturn, ParamSpec, TypeVar

import click

from idcard.errors import IdkartaError

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "HyphenChoice",
    "IdkartaGroup",
    "LazyCommands",
    "echo_json",
    "fail",
    "handle_errors",
    "prompt_secret",
    "spell_choices",
    "report_failure",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE
"""141: what a shell reports for a writer whose reader went away (``yes | head``)."""

P = ParamSpec("P")
T = TypeVar("T")

_JSON_ASKED: ContextVar[bool] = ContextVar("idkarta_json_asked", default=False)
"""Set by :class:`IdkartaGroup` when the command line holds ``--json`` (before parsing)."""


def _json_wanted() -> bool:
    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        if ctx.params.get("as_json"):
            return True
        ctx = ctx.parent
    return _JSON_ASKED.get()


def report_failure(message: str, code: int, *, as_json: bool | None = None) -> None:
    """Print the failure: ``error: message`` (one line) on stderr; with ``--json`` (or
    ``as_json``) also ``{"error": message, "exit": code}`` on stdout."""
    line = " ".join(str(message).split())
    click.echo(f"error: {line}", err=True)
    if _json_wanted() if as_json is None else as_json:
        click.echo(json.dumps({"error": line, "exit": code}, ensure_ascii=False))


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Report the failure (:func:`report_failure`) and exit with ``code``.

    Called while handling a broken pipe (``except OSError: fail(...)``), it lets the broken pipe
    go on to :class:`IdkartaGroup`, which ends quietly: a closed pipe is not an error of input.
    """
    handling = sys.exc_info()[1]
    if handling is not None and _is_broken_pipe(handling):
        raise handling
    report_failure(message, code)
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


def prompt_secret(prompt: str, confirm: bool = False) -> str:
    """A secret typed at a hidden prompt on standard error (``confirm``: typed twice); the
    ``ask`` of :mod:`station.folders.keys`."""
    entered: str = click.prompt(prompt, hide_input=True, confirmation_prompt=confirm, err=True)
    return entered


def prompt_optional(prompt: str) -> str:
    """A secret typed at a hidden prompt on standard error, or "" when none can be had (no
    terminal, standard input closed, or an empty answer): the caller names the ways there are."""
    try:
        entered: str = click.prompt(prompt, hide_input=True, err=True, default="",
                                    show_default=False)  # fmt: skip
    except (click.Abort, EOFError, OSError):
        return ""
    return entered


def echo_json(obj: Any) -> None:
    """Print ``obj`` as indented JSON (bytes as upper-case hex)."""

    def default(o: object) -> object:
        if isinstance(o, bytes | bytearray):
            return bytes(o).hex().upper()
        if hasattr(o, "isoformat"):
            return o.isoformat()
        raise TypeError(f"not JSON serialisable: {type(o).__name__}")

    click.echo(json.dumps(obj, indent=2, ensure_ascii=False, default=default))


class HyphenChoice(click.Choice[str]):
    """A choice shown with hyphens (``key-compromise``), as idkarta spells option values, that
    also takes the underscore spelling (``key_compromise``); the command receives the value as it
    declared it (``REVOCATION_REASONS`` keeps RFC 5280's asn1crypto names)."""

    def __init__(self, choices: Sequence[str], case_sensitive: bool = True) -> None:
        self.declared = {c.replace("_", "-"): c for c in choices}
        super().__init__(list(self.declared), case_sensitive=case_sensitive)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str):
            value = value.replace("_", "-")
        return self.declared.get(chosen := super().convert(value, param, ctx), chosen)


def spell_choices(group: click.Command) -> None:
    """Make every choice option of ``group`` and its commands (recursively) whose values hold
    ``_`` or ``-`` a :class:`HyphenChoice`: one spelling shown, the other accepted."""
    if isinstance(group, click.Group):
        for command in group.commands.values():
            spell_choices(command)
        return
    for param in group.params:
        kind = param.type
        if isinstance(kind, click.Choice) and not isinstance(kind, HyphenChoice):
            values = [str(c) for c in kind.choices]
            if any("_" in v or "-" in v for v in values):
                param.type = HyphenChoice(values, case_sensitive=kind.case_sensitive)


class LazyCommands(MutableMapping[str, click.Command]):
    """A group's commands, each imported when first used (``idkarta verify`` loads only
    :mod:`station.cli.verify`; ``idkarta --help`` loads none): the group's ``commands``.

    ``specs`` maps a command name to ``("module:attribute", summary)``; the summary is the first
    paragraph of the command's help, what the group's help lists (a test keeps the two equal).
    ``prepare`` runs once on each command when it is loaded (:func:`spell_choices`).
    """

    def __init__(
        self,
        specs: Mapping[str, tuple[str, str]],
        prepare: Callable[[click.Command], None] = spell_choices,
    ) -> None:
        self._specs = dict(specs)
        self._loaded: dict[str, click.Command] = {}
        self._prepare = prepare

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded:
            target, _ = self._specs[name]  # KeyError: no such command
            module, _, attribute = target.partition(":")
            command = getattr(importlib.import_module(module), attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{target} is not a click command")
            self._prepare(command)
            self._loaded[name] = command
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._specs.pop(name, None)
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        if name not in self._specs and name not in self._loaded:
            raise KeyError(name)
        self._specs.pop(name, None)
        self._loaded.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted({*self._specs, *self._loaded}))

    def __len__(self) -> int:
        return len({*self._specs, *self._loaded})

    def __contains__(self, name: object) -> bool:
        return name in self._specs or name in self._loaded

    def summary(self, name: str) -> click.Command:
        """The command itself when loaded, else a stand-in carrying only its summary (for the
        group's help, which then imports nothing)."""
        if name in self._loaded:
            return self._loaded[name]
        return click.Command(name, help=self._specs[name][1])


def _asks_json(argv: Sequence[str]) -> bool:
    options = list(argv[: argv.index("--")] if "--" in argv else argv)
    return "--json" in options


def _is_broken_pipe(exc: BaseException) -> bool:
    return isinstance(exc, BrokenPipeError) or (
        isinstance(exc, OSError) and exc.errno == errno.EPIPE
    )


def _quiet_stdout() -> None:
    """After a broken pipe: send what is still buffered for stdout nowhere (no second error when
    Python flushes it at exit)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a real file (click's test runner)
        pass


def _exit_code(value: object) -> int:
    """The status a command's return value or ``SystemExit.code`` stands for."""
    if value is None or isinstance(value, bool):
        return EXIT_OK
    if isinstance(value, int):
        return value
    click.echo(str(value), err=True)  # sys.exit("message"), as Python prints it
    return EXIT_FAILED


class _BrokenPipe(Exception):
    """A broken pipe carried past click (which would turn it into exit 1)."""


class IdkartaGroup(click.Group):
    """The root group. Runs click in non-standalone mode and reports every failure the same way:
    click's usage errors (exit 2), an aborted prompt (exit 1) and an :class:`IdkartaError` no
    command handled (exit 2) as :func:`report_failure`; a closed standard output (EPIPE) ends
    quietly with :data:`EXIT_BROKEN_PIPE`."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args=args, prog_name=prog_name, complete_var=complete_var,
                                standalone_mode=False, **extra)  # fmt: skip
        argv = list(sys.argv[1:] if args is None else args)
        token = _JSON_ASKED.set(_asks_json(argv))
        try:
            code = self._run(argv, prog_name, complete_var, extra)
        finally:
            _JSON_ASKED.reset(token)
        sys.exit(code)

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:  # fmt: skip
        try:  # ``idkarta --help | head``: the help is printed while parsing
            return super().make_context(info_name, args, parent, **extra)
        except OSError as exc:
            if _is_broken_pipe(exc):
                raise _BrokenPipe from exc
            raise

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As click's, but commands not imported yet are listed by their summary
        (:class:`LazyCommands`) without importing them."""
        if not isinstance(self.commands, LazyCommands):
            return super().format_commands(ctx, formatter)
        names = self.list_commands(ctx)
        shown = [(n, c) for n in names if not (c := self.commands.summary(n)).hidden]
        if not shown:
            return None
        limit = formatter.width - 6 - max(len(name) for name, _ in shown)
        with formatter.section("Commands"):
            formatter.write_dl([(name, c.get_short_help_str(limit)) for name, c in shown])
        return None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OSError as exc:
            if _is_broken_pipe(exc):
                raise _BrokenPipe from exc
            raise

    def _run(
        self, argv: list[str], prog_name: str | None, complete_var: str | None,
        extra: dict[str, Any],
    ) -> int:  # fmt: skip
        try:
            try:
                result = super().main(args=argv, prog_name=prog_name, complete_var=complete_var,
                                      standalone_mode=False, **extra)  # fmt: skip
                code = _exit_code(result)
            except SystemExit as exc:
                code = _exit_code(exc.code)
            sys.stdout.flush()
            return code
        except click.ClickException as exc:
            message = exc.format_message()
            ctx = getattr(exc, "ctx", None)
            if isinstance(exc, click.UsageError) and ctx is not None:
                message = f"{message.rstrip('.')} (see '{ctx.command_path} --help')"
            report_failure(message, exc.exit_code)
            return exc.exit_code
        except click.Abort:
            report_failure("aborted", EXIT_FAILED)
            return EXIT_FAILED
        except IdkartaError as exc:
            report_failure(str(exc), EXIT_USAGE)
            return EXIT_USAGE
        except (_BrokenPipe, BrokenPipeError):
            _quiet_stdout()
            return EXIT_BROKEN_PIPE
