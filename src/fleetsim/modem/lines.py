"""Command-line assembly as ITU-T V.250 §5.2 describes it: bytes in, command lines and
prompt texts out.

In command mode a line ends at CR (S3); an LF (S4) right after that CR is dropped, in
every mode, so a `>` prompt that follows a command sent as "…\\r\\n" sees its text start
with the next character; backspace (S5) removes the last character. A line longer than
the buffer is thrown away and reported as `Overflow` when its CR comes.

After a `>` prompt the session switches the assembler to text mode (Ctrl-Z sends the
text, ESC abandons it: 3GPP TS 27.005 §3.5.1 for `AT+CMGS`, and SIMCom's `AT+CASEND`
without a length) or to fixed-length mode (exactly N bytes: `AT+CASEND=<id>,<len>`).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BUFFER_SIZE",
    "CR",
    "CTRL_Z",
    "ESC",
    "Cancelled",
    "CommandLine",
    "Event",
    "LineAssembler",
    "Overflow",
    "PromptData",
]

CR, LF, BACKSPACE, CTRL_Z, ESC = 0x0D, 0x0A, 0x08, 0x1A, 0x1B
# SIMCom's manuals give 556 characters as the longest command line of their modules.
BUFFER_SIZE = 556
# The longest text taken after a prompt (an SMS text is at most 160 characters; a socket
# send at most 1460 bytes). Beyond it the text is abandoned like an ESC. Chosen, no source.
PROMPT_LIMIT = 2048


@dataclass(frozen=True)
class CommandLine:
    """A line ended by CR (without the CR), as bytes decoded as Latin-1."""

    text: str


@dataclass(frozen=True)
class Overflow:
    """A line that did not fit in the buffer ended."""


@dataclass(frozen=True)
class PromptData:
    """The text or bytes after a prompt, complete (Ctrl-Z, or the length was reached)."""

    data: bytes


@dataclass(frozen=True)
class Cancelled:
    """The text after a prompt was abandoned (ESC, or too long)."""


Event = CommandLine | Overflow | PromptData | Cancelled


class LineAssembler:
    """Bytes in (`feed`), events out (`next_event`), in the mode the session sets."""

    def __init__(self, buffer_size: int = BUFFER_SIZE) -> None:
        self.buffer_size = buffer_size
        self._pending = bytearray()
        self._line = bytearray()
        self._overflowed = False
        self._after_cr = False
        self._mode = "command"
        self._length = 0
        self.echo = bytearray()  # what the modem echoes of the bytes it took (when echo is on)

    def feed(self, data: bytes) -> None:
        self._pending.extend(data)

    def expect_text(self) -> None:
        """After a prompt: text up to Ctrl-Z (or ESC)."""
        self._mode, self._line = "text", bytearray()

    def expect_bytes(self, length: int) -> None:
        """After a prompt: exactly `length` bytes."""
        self._mode, self._line, self._length = "fixed", bytearray(), length

    def next_event(self) -> Event | None:
        """The next complete event from the bytes fed so far, or None."""
        while self._pending:
            byte = self._pending.pop(0)
            if self._after_cr:
                self._after_cr = False
                if byte == LF:
                    continue
            event = self._take(byte)
            if event is not None:
                return event
        return None

    def _take(self, byte: int) -> Event | None:
        if self._mode == "fixed":
            self._line.append(byte)
            if len(self._line) < self._length:
                return None
            return self._finish(PromptData(bytes(self._line)))
        self.echo.append(byte)
        if self._mode == "text":
            if byte == CTRL_Z:
                return self._finish(PromptData(bytes(self._line)))
            if byte == ESC or len(self._line) >= PROMPT_LIMIT:
                return self._finish(Cancelled())
            if byte == BACKSPACE:
                del self._line[-1:]
            else:
                self._line.append(byte)
            return None
        if byte == CR:
            self._after_cr = True
            line, overflowed = bytes(self._line), self._overflowed
            self._line, self._overflowed = bytearray(), False
            return Overflow() if overflowed else CommandLine(line.decode("latin-1"))
        if byte == BACKSPACE:
            del self._line[-1:]
        elif len(self._line) >= self.buffer_size:
            self._overflowed = True
        else:
            self._line.append(byte)
        return None

    def _finish(self, event: Event) -> Event:
        self._mode, self._line = "command", bytearray()
        return event
