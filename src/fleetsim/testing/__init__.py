"""Testing an application against fleetsim: a live server (`running()`), handles on its
clock and simulated devices, Twilio's SDK pointed at it (`fleetsim_client`), and a client
written to KORE's documentation (`KoreClient`: OAuth 2.0 client credentials, Bearer tokens).

The pytest plugin (`fleetsim.testing.plugin`, registered through the `pytest11` entry
point) gives the same as fixtures. Twilio's SDK comes with `pip install "fleetsim[testing]"`.
"""

from fleetsim.testing.client import (
    async_fleetsim_client,
    async_redirecting_http_client,
    fleetsim_client,
    redirecting_http_client,
)
from fleetsim.testing.kore import KoreAuth, KoreClient
from fleetsim.testing.server import (
    DEFAULT_CLOCK_START,
    Clock,
    Device,
    FleetsimError,
    Server,
    running,
)

__all__ = [
    "DEFAULT_CLOCK_START",
    "Clock",
    "Device",
    "FleetsimError",
    "KoreAuth",
    "KoreClient",
    "Server",
    "async_fleetsim_client",
    "async_redirecting_http_client",
    "fleetsim_client",
    "redirecting_http_client",
    "running",
]
