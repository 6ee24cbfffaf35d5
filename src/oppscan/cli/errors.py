"""How every ``oppscan`` command fails: one line on stderr, ``error: <what>: <why> (allowed: ...)``,
and an exit code that says which kind of failure it was. Never a traceback for a bad setting or
argument.

``CliGroup`` is the one place that turns a bad argument (click's usage errors) and a bad
``OPPSCAN_*`` setting (pydantic's ``ValidationError`` of ``Settings``) into that line.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import typer
from typer.core import TyperGroup

OK = 0
SCAN_FAILED = 1  # the scan ended failed or cancelled
USAGE = 2  # a bad argument or setting: fix the command line or the environment
REFUSED = 3  # the server refused: no such scan for this user (404), or the token (401)
UNAVAILABLE = 4  # the server cannot be reached, or cannot answer now (503, other 5xx)


def say_error(message: str) -> None:
    """One line on stderr (plain text: never wrapped, never read as markup)."""
    typer.echo(f"{typer.style('error:', fg='red', bold=True)} {message}", err=True)


def fail(message: str, code: int = USAGE) -> typer.Exit:
    """Print ``message`` as the error line; ``raise fail(...)`` ends the command with ``code``."""
    say_error(message)
    return typer.Exit(code)


def allowed_suffix(allowed: Sequence[object] | str | None) -> str:
    if not allowed:
        return ""
    text = allowed if isinstance(allowed, str) else ", ".join(map(str, allowed))
    return f" (allowed: {text})"


def validation_line(exc: Any) -> str:
    """The first error of a pydantic ``ValidationError`` as ``where: why``."""
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


_SETTINGS_FIELD = re.compile(r'field "([^"]+)"')


def settings_problems(exc: BaseException) -> list[str] | None:
    """One line per bad ``OPPSCAN_*`` variable, if ``exc`` is a refusal of the settings."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from oppscan.settings import Settings

    fields = Settings.model_fields
    if isinstance(exc, ValidationError) and exc.title == Settings.__name__:
        lines = []
        for error in exc.errors(include_url=False):
            field, *inner = [str(part) for part in error["loc"]] or [""]
            where = "".join(f": {part}" for part in inner)
            message = str(error["msg"]).removeprefix("Value error, ")
            info = fields.get(field)
            lines.append(
                f"OPPSCAN_{field.upper()}{where}: {message}"
                + allowed_suffix(info.description if info else None)
            )
        return lines
    if isinstance(exc, SettingsError):
        named = _SETTINGS_FIELD.search(str(exc))
        field = named.group(1) if named else ""
        info = fields.get(field)
        return [
            f"OPPSCAN_{field.upper()}: cannot parse the value"
            + allowed_suffix(info.description if info else None)
        ]
    return None


def _usage_line(exc: typer.TyperException) -> str:
    # A usage error (typer's copy of click's) carries the context of its command.
    ctx = getattr(exc, "ctx", None)
    hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
    message = exc.format_message().replace("Value error, ", "").rstrip(".")
    return message + hint


class CliGroup(TyperGroup):
    """A typer group whose failures are one line each (see the module's docstring)."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(
                args, prog_name, complete_var, standalone_mode, windows_expand_args, **extra
            )
        try:
            code = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except typer.TyperException as exc:  # click's ClickException, in typer's copy of click
            _exit_after(exc)
        except typer.Abort:
            say_error("aborted")
            sys.exit(1)
        except Exception as exc:
            problems = settings_problems(exc)
            if problems is None:
                raise
            for line in problems:
                say_error(line)
            sys.exit(USAGE)
        sys.exit(code if isinstance(code, int) else OK)


def _exit_after(exc: typer.TyperException) -> NoReturn:
    if type(exc).__name__ == "NoArgsIsHelpError":
        # `oppscan` alone: typer has printed the help already (rich prints it as it renders).
        message = exc.format_message()
        if message.strip():
            typer.echo(message, err=True)
    else:
        say_error(_usage_line(exc))
    sys.exit(exc.exit_code)
