"""Device addresses: 100.64.0.0/10 (carrier-grade NAT space), as Super SIM devices get.

100.64.0.1 is the network's own address (devices send IP Commands to it), so devices
start at 100.64.0.2. Each Sim has a fixed address, so no two devices ever share one.
"""

from __future__ import annotations

import ipaddress

__all__ = ["COMMANDS_ADDRESS", "address_for", "sim_id_for"]

_BASE = int(ipaddress.IPv4Address("100.64.0.0"))
_SIZE = 2**22  # a /10
COMMANDS_ADDRESS = "100.64.0.1"


def address_for(sim_id: int) -> str:
    offset = sim_id % (_SIZE - 3) + 2
    return str(ipaddress.IPv4Address(_BASE + offset))


def sim_id_for(address: str) -> int | None:
    """The Sim id whose device has `address` (for ids below the size of the range)."""
    try:
        value = int(ipaddress.IPv4Address(address)) - _BASE
    except ValueError:
        return None
    return value - 2 if 2 <= value < _SIZE - 1 else None
