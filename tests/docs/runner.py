"""Runs one document's examples in order: one shell, a scratch folder, a fresh server."""

from __future__ import annotations

import os
import queue
import re
import shlex
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from tests.docs.examples import Example
from tests.support.server import LiveServer, free_port

__all__ = ["DocumentRun", "Outcome"]

BIN = Path(sys.executable).parent
_DONE = "__example_done__"
# The only change made to what the reader types: the port is set once, as a variable.
_PORT_LINE = re.compile(r"^(export )?PORT=8080$", re.MULTILINE)
_PY_PORT_LINE = re.compile(r"^PORT = 8080$", re.MULTILINE)
# Every curl answer of 400 or more fails the example, unless the block says it shows one.
_CURL = 'curl() { if [ -n "${EXAMPLE_SHOWS_ERROR:-}" ]; then command curl "$@"; '
_CURL += 'else command curl --fail-with-body "$@"; fi; }\n'


@dataclass
class Outcome:
    ran: list[Example] = field(default_factory=list)
    skipped: list[Example] = field(default_factory=list)


class ExampleFailed(AssertionError):
    pass


class DocumentRun:
    """A reader at a terminal: a shell in `workdir` with `fleetsim` on PATH."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.server: LiveServer | None = None
        self.env_file = workdir / ".example-env"
        self.shell = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            cwd=workdir,
            env={**env, "PATH": f"{BIN}:{env['PATH']}"},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._shell("set -e\n" + _CURL, timeout=10)

    def _read(self) -> None:
        assert self.shell.stdout is not None
        for line in self.shell.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _shell(self, code: str, *, timeout: float) -> str:
        assert self.shell.stdin is not None
        self.shell.stdin.write(f"{code}\nenv -0 > {self.env_file}\necho; echo {_DONE}\n")
        self.shell.stdin.flush()
        output: list[str] = []
        while True:
            try:
                line = self._lines.get(timeout=timeout)
            except queue.Empty:
                raise ExampleFailed("no answer in time:\n" + "".join(output)) from None
            if line is None:
                raise ExampleFailed("the shell stopped (a command failed):\n" + "".join(output))
            if line.strip() == _DONE:
                return "".join(output)
            output.append(line)

    def env(self) -> dict[str, str]:
        """The shell's environment now, as a program started from it would get it."""
        pairs = self.env_file.read_bytes().decode().split("\0")
        return dict(pair.split("=", 1) for pair in pairs if "=" in pair)

    def run(self, example: Example) -> str:
        if example.language == "sh":
            code = _PORT_LINE.sub(lambda m: f"{m.group(1) or ''}PORT={self.port}", example.code)
            if example.marker == "shows-error":
                code = f"export EXAMPLE_SHOWS_ERROR=1\n{code}\nunset EXAMPLE_SHOWS_ERROR"
            return self._shell(code, timeout=120)
        code = _PY_PORT_LINE.sub(f"PORT = {self.port}", example.code)
        script = self.workdir / f"example_{example.line}.py"
        script.write_text(code, encoding="utf-8")
        command = [sys.executable, script.name]
        if example.marker == "pytest":
            script = script.rename(self.workdir / f"test_example_{example.line}.py")
            command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", script.name]
        done = subprocess.run(
            command,
            cwd=self.workdir,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise ExampleFailed(done.stdout + done.stderr)
        return done.stdout

    def stand_in_for_serve(self, example: Example) -> None:
        """Start the server the block starts, with its arguments, from the shell's
        environment (the credentials the document set)."""
        assert self.server is None, f"{example.where}: a document starts one server"
        words = shlex.split(example.code.split("serve", 1)[1].split("\n", 1)[0].split("#")[0])
        args: list[str] = []
        skip = False
        for word in words:
            if skip:
                skip = False
            elif word == "--port":
                skip = True
            else:
                args.append(word)
        self.server = LiveServer(
            database_url=f"sqlite:///{self.workdir / 'fleetsim.db'}",
            workdir=self.workdir,
            env=self.env(),
            extra_args=args,
            port=self.port,
        ).start()

    def close(self) -> None:
        if self.shell.poll() is None:
            assert self.shell.stdin is not None
            self.shell.stdin.close()
            try:
                self.shell.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.shell.kill()
                self.shell.wait()
        self._reader.join(timeout=10)
        if self.shell.stdout is not None:
            self.shell.stdout.close()
        if self.server is not None:
            self.server.stop()


def environment(workdir: Path) -> dict[str, str]:
    """A clean environment for the reader's shell: nothing of ours but the basics."""
    keep = ("PATH", "LANG", "LC_ALL", "TMPDIR", "TERM")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env["HOME"] = str(workdir / "home")
    return env
