"""What the commands say to do next about an error of the API."""

from __future__ import annotations

__all__ = ["next_step"]

_NEXT_STEP = {
    20003: "Check the credentials (--account and --token, or FLEETSIM_ACCOUNT_SID and "
    "FLEETSIM_AUTH_TOKEN).",
    20404: "Check the SID or unique name: list what exists with the API, or create it first "
    "(`fleetsim accounts create` for accounts).",
}


def next_step(code: int | None) -> str:
    """What to do about an API error with Twilio code `code`."""
    if code in _NEXT_STEP:
        return _NEXT_STEP[code]
    if code is None:
        return "See the server log for details."
    return f"See https://www.twilio.com/docs/errors/{code} and fix the request."
