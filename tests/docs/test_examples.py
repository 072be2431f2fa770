"""Every shell and Python example of the README and the docs runs, in document order, as
a newcomer would type it: a scratch folder, `fleetsim` on PATH, a fresh server where the
document starts one. The count of examples run and not run is printed at the end of the
suite ("documentation examples")."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

from tests.docs.examples import Example, examples
from tests.docs.runner import DocumentRun, ExampleFailed, environment
from tests.node.packages import node_packages

pytestmark = [pytest.mark.live]

ROOT = Path(__file__).resolve().parent.parent.parent
DOCUMENTS = ["README.md", *sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("docs/*.md"))]
# A not-run block whose reason starts so runs `serve`: the test starts that server there.
STANDS_IN = "the test starts this server"
WITH_EXAMPLES = [d for d in DOCUMENTS if examples(ROOT / d, d)]


def _scratch(tmp_path: Path, needs_node: bool) -> Path:
    """The reader's folder: the files of the clone the examples use, and the pinned npm
    packages (as `npm install` would leave them) when an example needs Node.js."""
    workdir = tmp_path / "clone"
    (workdir / "home").mkdir(parents=True)
    shutil.copytree(ROOT / "tests" / "node", workdir / "tests" / "node", dirs_exist_ok=True)
    if needs_node:
        packages: Path | None
        try:
            packages = node_packages()
        except pytest.skip.Exception:
            packages = None
        if packages is not None:
            (workdir / "node_modules").symlink_to(packages / "node_modules")
    return workdir


def run_document(document: str, tmp_path: Path, record_property: pytest.RecordProperty) -> None:
    """Run the document's examples in order; record how many ran and why others did not."""
    found = examples(ROOT / document, document)
    needs_node = any(e.marker == "needs" and e.note == "node" for e in found)
    workdir = _scratch(tmp_path, needs_node)
    has_node = (workdir / "node_modules").exists()
    run = DocumentRun(workdir, environment(workdir))  # cheap: a shell, until a server starts
    ran: list[Example] = []
    skipped: list[tuple[Example, str]] = []
    timings: list[str] = []
    try:
        for example in found:
            if example.marker == "not-run":
                if example.note.startswith(STANDS_IN):
                    run.stand_in_for_serve(example)
                skipped.append((example, example.note))
                continue
            if example.marker == "needs" and not has_node:
                skipped.append((example, f"needs {example.note}, not installed"))
                continue
            started = time.monotonic()
            try:
                run.run(example)
            except ExampleFailed as exc:
                pytest.fail(f"the example at {example.where} failed:\n{example.code}\n{exc}")
            ran.append(example)
            timings.append(f"{example.where} {time.monotonic() - started:.1f}s")
    finally:
        run.close()
    reasons = sorted({reason for _, reason in skipped})
    record_property(
        "documentation",
        f"{document}: {len(ran)} examples run, {len(skipped)} not run"
        + (f" ({'; '.join(reasons)})" if reasons else ""),
    )
    print("\n".join(timings))


def test_every_marker_is_known_and_every_not_run_says_why() -> None:
    for document in DOCUMENTS:
        for example in examples(ROOT / document, document):
            if example.marker == "not-run":
                assert example.note, f"{example.where}: say why it is not run"
            if example.marker == "needs":
                assert example.note == "node", f"{example.where}: only node can be needed"


def _document_class(document: str) -> type:
    """A test class of its own per document: pytest-xdist (`--dist loadscope`) sends each
    class to a worker, so the documents run side by side."""

    def test_the_examples_run_in_order(
        self: object, tmp_path: Path, record_property: pytest.RecordProperty
    ) -> None:
        run_document(document, tmp_path, record_property)

    name = "Test_" + re.sub(r"\W", "_", document)
    return type(name, (), {"test_the_examples_run_in_order": test_the_examples_run_in_order})


for _document in WITH_EXAMPLES:
    _class = _document_class(_document)
    globals()[_class.__name__] = _class
