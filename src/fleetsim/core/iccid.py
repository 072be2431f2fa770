"""ICCIDs of physical SIM cards: 19 or 20 digits ending in a Luhn check digit (ITU-T E.118)."""

from __future__ import annotations

import random

__all__ = [
    "ICCID_PREFIXES",
    "imei_for",
    "is_valid_iccid",
    "luhn_check_digit",
    "new_iccid",
    "new_registration_code",
]

# 89 (telecom) + 883 (international networks, the range Super SIMs use) + issuer: Twilio's
# Super SIMs; and 89 + 1 + 0392, the Super SIMs KORE makes since the third quarter of 2025.
ICCID_PREFIXES = ("8988307", "8910392")
_ISSUER_PREFIX = ICCID_PREFIXES[0]
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I look-alikes


# What each digit adds to the Luhn sum at the places that are doubled (the last, then
# every other one leftwards), and at the others.
_DOUBLED = {str(d): 2 * d - 9 * (d > 4) for d in range(10)}
_PLAIN = {str(d): d for d in range(10)}


def luhn_check_digit(body: str) -> str:
    """The digit that makes `body + digit` pass the Luhn check (`body`: digits only)."""
    total = 0
    doubled = True
    for char in reversed(body):
        total += _DOUBLED[char] if doubled else _PLAIN[char]
        doubled = not doubled
    return str(-total % 10)


def is_valid_iccid(value: str) -> bool:
    if not (value.isascii() and value.isdigit() and 19 <= len(value) <= 20):
        return False
    return luhn_check_digit(value[:-1]) == value[-1]


def new_iccid(rng: random.Random, length: int = 20, prefix: str = _ISSUER_PREFIX) -> str:
    """A random ICCID of `length` digits (19 or 20) starting with `prefix`, with a valid
    check digit."""
    if length not in (19, 20):
        raise ValueError("an ICCID has 19 or 20 digits")
    body_digits = length - 1 - len(prefix)
    body = prefix + "".join(rng.choice("0123456789") for _ in range(body_digits))
    return body + luhn_check_digit(body)


def new_registration_code(rng: random.Random) -> str:
    """A 10-character registration code as printed on the card."""
    return "".join(rng.choice(_CODE_ALPHABET) for _ in range(10))


def imei_for(number: int) -> str:
    """A stable 15-digit IMEI (with its Luhn digit) for device `number`."""
    body = "35" + f"{number % 10**12:012d}"
    return body + luhn_check_digit(body)
