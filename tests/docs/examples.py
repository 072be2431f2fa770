"""The shell and Python examples of the README and the docs, as a newcomer would type them.

A fenced block tagged `sh` or `python` is an example. An HTML comment on the line before it
changes how it runs, visibly in the page's source:

    <!-- not-run: why -->     not run (the reason is shown in the test's count); a block that
                              runs `serve`, with a reason that begins "the test starts this
                              server", is stood in for: the test starts that server there
    <!-- needs: node -->      run only where Node.js and the pinned npm packages are
    <!-- pytest -->           a test module: written to a file and run with pytest
    <!-- shows-error -->      its curl calls may answer an error (the others must not)

The examples of one document run in order, in one shell (variables carry over) and one
Python namespace, in a scratch folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Example", "examples"]

_FENCE = re.compile(r"^```(\w*)\s*$")
_MARKER = re.compile(r"^<!--\s*(not-run|needs|pytest|shows-error)\s*:?\s*(.*?)\s*-->\s*$")
LANGUAGES = ("sh", "python")


@dataclass(frozen=True)
class Example:
    document: str
    line: int  # of the opening fence, from 1
    language: str
    code: str
    marker: str  # "", "not-run", "needs" or "pytest"
    note: str  # the marker's text: the reason not to run, or what it needs

    @property
    def where(self) -> str:
        return f"{self.document}:{self.line}"


def examples(path: Path, name: str) -> list[Example]:
    """The `sh` and `python` blocks of a Markdown file, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Example] = []
    at = 0
    while at < len(lines):
        opening = _FENCE.match(lines[at])
        if not opening or not opening.group(1):
            at += 1
            continue
        end = at + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        language = opening.group(1)
        if language in LANGUAGES:
            marker, note = _marker_before(lines, at)
            code = "\n".join(lines[at + 1 : end]) + "\n"
            found.append(Example(name, at + 1, language, code, marker, note))
        at = end + 1
    return found


def _marker_before(lines: list[str], fence: int) -> tuple[str, str]:
    before = fence - 1
    while before >= 0 and not lines[before].strip():
        before -= 1
    match = _MARKER.match(lines[before].strip()) if before >= 0 else None
    return (match.group(1), match.group(2)) if match else ("", "")
