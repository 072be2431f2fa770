"""Splitting a command line into commands (ITU-T V.250 §5.3, §5.4).

A line starts with `AT` (either case; anything before it is line noise and skipped).
Basic commands follow one another without a separator (`ATE0V1`, `AT&F`, `ATS0=1`);
extended commands start with `+` (or SIMCom's `*`, `$`, `#`, `%`, `^`) and end at `;` or
the end of the line. Each is an action (`AT+CSQ`), a read (`AT+CREG?`), a test
(`AT+COPS=?`) or a set (`AT+CMGD=,4`), whose parameters are separated by commas: quoted
strings (which may hold commas and semicolons), numbers and other bare words, or nothing
(an omitted parameter is None).

Names are upper-cased; quoted strings keep their case.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["Command", "Form", "SyntaxProblem", "parse_line"]

EXTENDED_PREFIXES = "+*$#%^"
_NAME_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!%-./:_")


class SyntaxProblem(Exception):
    """The line is not a well-formed command line."""


class Form(enum.StrEnum):
    """The four forms of an extended command (V.250 §5.4.2, §5.4.3)."""

    ACTION = "action"
    READ = "read"
    TEST = "test"
    SET = "set"


@dataclass(frozen=True)
class Command:
    """One command of a line: its name (`+CREG`, `E`, `&F`, `S0`), form and parameters."""

    name: str
    form: Form
    args: tuple[str | None, ...] = ()

    def arg(self, position: int) -> str | None:
        return self.args[position] if position < len(self.args) else None


def find_prefix(line: str) -> int | None:
    """Where the `AT` prefix ends, or None if the line has none."""
    upper = line.upper()
    at = upper.find("AT")
    return None if at < 0 else at + 2


def parse_line(line: str) -> list[Command]:
    """The commands of a line (which starts with AT); SyntaxProblem if malformed."""
    start = find_prefix(line)
    if start is None:
        raise SyntaxProblem("no AT prefix")
    commands: list[Command] = []
    pos = start
    while pos < len(line):
        char = line[pos]
        if char in " ;":
            pos += 1
        elif char in EXTENDED_PREFIXES:
            command, pos = _extended(line, pos)
            commands.append(command)
        else:
            command, pos = _basic(line, pos)
            commands.append(command)
    return commands


def _extended(line: str, pos: int) -> tuple[Command, int]:
    end = pos + 1
    while end < len(line) and line[end].upper() in _NAME_CHARS:
        end += 1
    name = line[pos:end].upper()
    if len(name) < 2:
        raise SyntaxProblem(f"a command name is missing after {line[pos]!r}")
    rest = line[end:]
    if rest.startswith("=?"):
        return Command(name, Form.TEST), end + 2
    if rest.startswith("?"):
        return Command(name, Form.READ), end + 1
    if rest.startswith("="):
        args, after = _arguments(line, end + 1)
        return Command(name, Form.SET, args), after
    return Command(name, Form.ACTION), end


def _arguments(line: str, pos: int) -> tuple[tuple[str | None, ...], int]:
    args: list[str | None] = []
    current: list[str] = []
    quoted: str | None = None
    while pos < len(line) and line[pos] != ";":
        char = line[pos]
        if char == '"':
            if quoted is not None or "".join(current).strip():
                raise SyntaxProblem("a quote inside a parameter")
            close = line.find('"', pos + 1)
            if close < 0:
                raise SyntaxProblem("a quoted string does not end")
            quoted, pos = line[pos + 1 : close], close + 1
            continue
        if char == ",":
            args.append(_value(current, quoted))
            current, quoted = [], None
        elif quoted is not None and char != " ":
            raise SyntaxProblem("text after a quoted string")
        else:
            current.append(char)
        pos += 1
    args.append(_value(current, quoted))
    return tuple(args), pos


def _value(current: list[str], quoted: str | None) -> str | None:
    if quoted is not None:
        return quoted
    bare = "".join(current).strip()
    return bare or None


def _basic(line: str, pos: int) -> tuple[Command, int]:
    char = line[pos].upper()
    if char == "&":
        if pos + 1 >= len(line) or not line[pos + 1].isalpha():
            raise SyntaxProblem("& without a command letter")
        name, pos = "&" + line[pos + 1].upper(), pos + 2
    elif char.isalpha():
        name, pos = char, pos + 1
    else:
        raise SyntaxProblem(f"unexpected character {line[pos]!r}")
    if name == "D":  # dialling takes the rest of the line
        return Command(name, Form.SET, (line[pos:].strip(),)), len(line)
    digits = pos
    while pos < len(line) and line[pos].isdigit():
        pos += 1
    number = line[digits:pos]
    if name == "S":
        if not number:
            raise SyntaxProblem("S without a register number")
        name += str(int(number))
        if line[pos : pos + 1] == "?":
            return Command(name, Form.READ), pos + 1
        if line[pos : pos + 1] == "=":
            end = pos + 1
            while end < len(line) and line[end].isdigit():
                end += 1
            return Command(name, Form.SET, (line[pos + 1 : end] or None,)), end
        raise SyntaxProblem("S-register without ? or =")
    return Command(name, Form.SET if number else Form.ACTION, (number,) if number else ()), pos
