"""The operations-coverage page, generated from code.

    GET /openapi/coverage    HTML: the spec's operations and whether fleetsim implements
                             them (read off the route table), fleetsim's own operations,
                             and every documented deviation from Twilio

Deviations are collected from the package's docstrings (module, class and function): each
paragraph where that word, singular or plural, is followed by a colon on its line, from
the word on. Writing the
docstring is all it takes to appear here.
"""

from __future__ import annotations

import ast
import functools
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute

import fleetsim
from fleetsim.app.openapi import TWILIO_TAG, route_operations
from fleetsim.contract import operations

__all__ = ["Coverage", "Deviation", "coverage", "coverage_page", "deviations"]

# "Deviation: …", "Deviations (Twilio's answers are unconfirmed): …", "Deviation from …: …"
_DEVIATION = re.compile(r"\bDeviations?\b[^:\n]{0,60}:")
_SKIPPED = ("db/migrations",)


@dataclass(frozen=True)
class Deviation:
    where: str  # module or module:qualname
    text: str


@dataclass(frozen=True)
class SpecOperation:
    id: str
    method: str
    path: str
    implemented: bool


@dataclass(frozen=True)
class Coverage:
    spec: list[SpecOperation]
    own: list[tuple[str, str, str, str]]  # tag, method, path, summary
    deviations: tuple[Deviation, ...]

    @property
    def implemented(self) -> int:
        return sum(op.implemented for op in self.spec)


def coverage(routes: Sequence[BaseRoute]) -> Coverage:
    entries = list(route_operations(routes))
    served = {e.id for e in entries if e.tag == TWILIO_TAG}
    spec = [
        SpecOperation(op.id, op.method, op.path, op.id in served)
        for op in sorted(operations().values(), key=lambda op: (op.path, op.method))
    ]
    own = [(e.tag, e.method, e.path, e.summary) for e in entries if e.tag != TWILIO_TAG]
    return Coverage(spec, own, deviations())


@functools.cache
def deviations() -> tuple[Deviation, ...]:
    """The deviations the package's docstrings document, by where they are written.

    Read once per process: parsing every module takes a few hundred milliseconds, which
    each request for the page held the event loop for."""
    root = Path(fleetsim.__file__).parent
    found: list[Deviation] = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if relative.startswith(_SKIPPED):
            continue
        module = "fleetsim." + relative.removesuffix(".py").replace("/", ".")
        module = module.removesuffix(".__init__")
        tree = ast.parse(path.read_text("utf-8"))
        found.extend(_in_node(tree, module, ""))
    return tuple(found)


def _in_node(node: ast.AST, module: str, qualname: str) -> list[Deviation]:
    found: list[Deviation] = []
    if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
        doc = ast.get_docstring(node) or ""
        where = f"{module}:{qualname}" if qualname else module
        found.extend(Deviation(where, text) for text in _paragraphs(doc))
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            name = f"{qualname}.{child.name}" if qualname else child.name
            found.extend(_in_node(child, module, name))
    return found


def _paragraphs(doc: str) -> list[str]:
    texts = []
    for paragraph in re.split(r"\n\s*\n", doc):
        match = _DEVIATION.search(paragraph)
        if match:
            texts.append(" ".join(paragraph[match.start() :].split()))
    return texts


def render_html(report: Coverage) -> str:
    def row(*cells: str) -> str:
        return "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>"

    spec_rows = "\n".join(
        row(op.method, op.path, op.id, "implemented" if op.implemented else "not implemented")
        for op in report.spec
    )
    own_rows = "\n".join(row(*entry) for entry in report.own)
    deviation_rows = "\n".join(row(d.where, d.text) for d in report.deviations)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fleetsim: operations coverage</title>
<style>body{{font-family:sans-serif;margin:2em}}td{{padding:2px 8px;vertical-align:top}}
tr:nth-child(even){{background:#f4f4f4}}</style></head><body>
<h1>fleetsim: operations coverage</h1>
<p>Generated from the route table and the package's docstrings; the machine-readable
document is <a href="/openapi.json">/openapi.json</a>.</p>
<h2>Super SIM v1: {report.implemented} of {len(report.spec)} operations implemented</h2>
<table><tr><th>Method</th><th>Path</th><th>Operation</th><th>State</th></tr>
{spec_rows}</table>
<h2>fleetsim's own operations ({len(report.own)})</h2>
<table><tr><th>API</th><th>Method</th><th>Path</th><th>Summary</th></tr>
{own_rows}</table>
<h2>Documented deviations from Twilio ({len(report.deviations)})</h2>
<table><tr><th>Where</th><th>Deviation</th></tr>
{deviation_rows}</table>
</body></html>
"""


async def coverage_page(request: Request) -> Response:
    return HTMLResponse(render_html(coverage(request.app.routes)))
