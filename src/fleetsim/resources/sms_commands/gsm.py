"""The GSM 03.38 7-bit default alphabet, in which an SMS Command's payload is counted.

An SMS holds 160 septets. Characters of the basic table take one; those of the extension
table (`^ { } \\ [ ] ~ | €` and form feed) take two, an escape and the character.
"""

from __future__ import annotations

__all__ = ["BASIC", "EXTENSION", "MAX_SEPTETS", "outside_alphabet", "septet_count"]

MAX_SEPTETS = 160

# The basic table in code-point order; 0x1B (the escape to the extension table) is not a
# character a payload may hold, so it is left out.
BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ"
    "ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENSION = frozenset("\f^{}\\[~]|€")


def outside_alphabet(text: str) -> list[str]:
    """The distinct characters of `text` that GSM 7-bit cannot carry, in order of appearance."""
    seen: dict[str, None] = {}
    for char in text:
        if char not in BASIC and char not in EXTENSION:
            seen.setdefault(char)
    return list(seen)


def septet_count(text: str) -> int:
    """How many septets `text` takes (every character must be in the alphabet)."""
    return sum(2 if char in EXTENSION else 1 for char in text)
