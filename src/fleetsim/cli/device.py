"""`fleetsim device …`: make a Sim's simulated device act, through the device API of a
running server, with an account's credentials."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from fleetsim.cli.errors import next_step
from fleetsim.modem.device import DeviceApi, DeviceApiError, DeviceApiUnreachable
from fleetsim.network.default_network import fleet_network

__all__ = ["DeviceClient", "device", "device_api_options"]


class DeviceClient:
    """The device API for a command: its errors as one-line messages that say what to do."""

    def __init__(self, url: str, account: str | None, token: str | None) -> None:
        if not account or not token:
            raise click.UsageError(
                "Give the account's credentials: --account and --token, or set "
                "FLEETSIM_ACCOUNT_SID and FLEETSIM_AUTH_TOKEN."
            )
        self.url = url.rstrip("/")
        self.auth = (account, token)

    def call(self, method: str, path: str, data: dict[str, str] | None = None) -> Any:
        try:
            with DeviceApi(self.url, *self.auth) as api:
                return api.call(method, path, data)
        except DeviceApiUnreachable as exc:
            raise click.ClickException(
                f"{exc}. Is `fleetsim serve` running there? Use --url to point at it."
            ) from None
        except DeviceApiError as exc:
            raise click.ClickException(f"{exc}. " + next_step(exc.code)) from None


def device_api_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--url, --account and --token (and their environment variables) of the device API."""
    for option in reversed(
        [
            click.option(
                "--url", envvar="FLEETSIM_URL", default="http://127.0.0.1:8080", show_default=True
            ),
            click.option(
                "--account", envvar="FLEETSIM_ACCOUNT_SID", default=None, help="Account SID."
            ),
            click.option("--token", envvar="FLEETSIM_AUTH_TOKEN", default=None, help="Auth token."),
        ]
    ):
        command = option(command)
    return command


@click.group()
@device_api_options
@click.pass_context
def device(ctx: click.Context, url: str, account: str | None, token: str | None) -> None:
    """Drive a Sim's simulated device (SIM is a Sim SID or unique name)."""
    ctx.obj = (url, account, token)


def _client(ctx: click.Context) -> DeviceClient:
    url, account, token = ctx.obj
    return DeviceClient(url, account, token)


def _show(value: Any) -> None:
    click.echo(json.dumps(value, indent=2))


@device.command()
@click.argument("sim")
@click.pass_context
def show(ctx: click.Context, sim: str) -> None:
    """The device's state: network, address, data session."""
    _show(_client(ctx).call("GET", f"/devices/{sim}"))


@device.command()
@click.argument("sim")
@click.option(
    "--network",
    default=None,
    help="Network SID (HW…); default: the first network of the Sim's Fleet's profile.",
)
@click.option("--mcc", default=None)
@click.option("--mnc", default=None)
@click.pass_context
def attach(
    ctx: click.Context, sim: str, network: str | None, mcc: str | None, mnc: str | None
) -> None:
    """Attach to a network (by SID, or by MCC and MNC; by default one of its profile's)."""
    client = _client(ctx)
    if network is None and mcc is None:
        network = fleet_network(lambda path: client.call("GET", path), sim)
    data = {k: v for k, v in {"Network": network, "Mcc": mcc, "Mnc": mnc}.items() if v}
    result = client.call("POST", f"/devices/{sim}/attach", data)
    _show(result)
    if not result.get("attached"):
        rejection = result.get("rejection") or {}
        raise click.ClickException(
            f"attach rejected: {rejection.get('message')} (error {rejection.get('code')})"
        )


@device.command()
@click.argument("sim")
@click.pass_context
def detach(ctx: click.Context, sim: str) -> None:
    """Detach from the network (ends the data session)."""
    _show(_client(ctx).call("POST", f"/devices/{sim}/detach"))


@device.command()
@click.argument("sim")
@click.option("--upload", type=click.IntRange(0), default=0, show_default=True)
@click.option("--download", type=click.IntRange(0), default=0, show_default=True)
@click.option("--over", type=click.FloatRange(0), default=None, help="Spread over SECONDS.")
@click.pass_context
def data(ctx: click.Context, sim: str, upload: int, download: int, over: float | None) -> None:
    """Use data (bytes up and down), now or spread over a period of clock time."""
    params = {"Upload": str(upload), "Download": str(download)}
    if over is not None:
        params["Over"] = str(over)
    _show(_client(ctx).call("POST", f"/devices/{sim}/data", params))


@device.command()
@click.argument("sim")
@click.argument("body")
@click.option("--to", default="000", show_default=True, help="Super SIMs send SMS to 000.")
@click.pass_context
def sms(ctx: click.Context, sim: str, body: str, to: str) -> None:
    """Send an SMS (an SMS Command from the Sim)."""
    _show(_client(ctx).call("POST", f"/devices/{sim}/sms", {"To": to, "Body": body}))


@device.command()
@click.argument("sim")
@click.option("--source-port", type=click.IntRange(1, 65535), required=True)
@click.option("--text", default=None, help="A UTF-8 payload.")
@click.option("--payload", default=None, help="A Base64 payload.")
@click.pass_context
def udp(
    ctx: click.Context, sim: str, source_port: int, text: str | None, payload: str | None
) -> None:
    """Send a UDP datagram to 100.64.0.1 (an IP Command from the Sim)."""
    if (text is None) == (payload is None):
        raise click.UsageError("Give exactly one of --text or --payload.")
    data = {"SourcePort": str(source_port)}
    data.update({"Text": text} if text is not None else {"Payload": str(payload)})
    _show(_client(ctx).call("POST", f"/devices/{sim}/udp", data))


@device.command("udp-bind")
@click.argument("sim")
@click.option(
    "--udp",
    "port",
    type=click.IntRange(1, 65535),
    default=None,
    help="The local UDP port your device program listens on.",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--unbind", is_flag=True, help="Stop sending this device's datagrams for real.")
@click.pass_context
def udp_bind(ctx: click.Context, sim: str, port: int | None, host: str, unbind: bool) -> None:
    """Bind the device to a real UDP port on this machine (or unbind it)."""
    if unbind:
        _show(_client(ctx).call("DELETE", f"/devices/{sim}/udp-binding"))
        return
    if port is None:
        raise click.UsageError("Give --udp PORT (or --unbind).")
    _show(
        _client(ctx).call("POST", f"/devices/{sim}/udp-binding", {"Port": str(port), "Host": host})
    )


@device.command()
@click.argument("sim")
@click.pass_context
def inbox(ctx: click.Context, sim: str) -> None:
    """SMS and IP Commands the device received, oldest first."""
    _show(_client(ctx).call("GET", f"/devices/{sim}/inbox?PageSize=1000"))
