"""`fleetsim modem SIM --listen 127.0.0.1:PORT`: a virtual cellular modem for one Sim's
device, speaking AT commands on a TCP port (one session per connection) or a
pseudo-terminal, and acting through the device API of a running server."""

from __future__ import annotations

import asyncio
import contextlib

import click

from fleetsim.cli.device import device_api_options
from fleetsim.cli.errors import next_step
from fleetsim.modem.commands_http import policy_from_environment
from fleetsim.modem.device import DeviceApi, DeviceApiError, DeviceApiUnreachable
from fleetsim.modem.server import MODELS, serve_pty, serve_tcp
from fleetsim.modem.session import ModemSetup

__all__ = ["modem"]


def _address(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise click.BadParameter("write HOST:PORT, e.g. 127.0.0.1:7080", param_hint="--listen")
    return host, int(port)


@click.command()
@click.argument("sim")
@click.option("--listen", default="127.0.0.1:7080", show_default=True, help="HOST:PORT.")
@click.option("--pty", is_flag=True, help="Serve on a new pseudo-terminal instead.")
@click.option("--model", type=click.Choice(MODELS), default="sim7080g", show_default=True)
@click.option(
    "--poll", type=click.FloatRange(0.05), default=1.0, show_default=True, help="Seconds."
)
@device_api_options
def modem(
    sim: str,
    listen: str,
    pty: bool,
    model: str,
    poll: float,
    url: str,
    account: str | None,
    token: str | None,
) -> None:
    """Serve a virtual modem (AT commands) for a Sim's device (SIM: SID or unique name).

    Its HTTP client (AT+SH…) goes where the server's webhooks may go:
    FLEETSIM_WEBHOOK_DESTINATIONS and FLEETSIM_WEBHOOK_ALLOW, as for `fleetsim serve`."""
    if not account or not token:
        raise click.UsageError(
            "Give the account's credentials: --account and --token, or set "
            "FLEETSIM_ACCOUNT_SID and FLEETSIM_AUTH_TOKEN."
        )
    host, port = _address(listen)
    try:
        policy = policy_from_environment()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    api = DeviceApi(url, account, token)
    try:
        api.state(sim)  # the Sim exists and the server answers, before anyone connects
    except DeviceApiUnreachable as exc:
        api.close()
        raise click.ClickException(
            f"{exc}. Is `fleetsim serve` running there? Use --url to point at it."
        ) from None
    except DeviceApiError as exc:
        api.close()
        raise click.ClickException(f"{exc}. {next_step(exc.code)}") from None
    setup = ModemSetup(
        sim,
        api,
        model=model,
        poll_interval=poll,
        http_policy=policy,
    )

    async def main() -> None:
        if pty:
            await serve_pty(setup, lambda path: click.echo(f"Modem for {sim} on {path}"))
            return
        served = await serve_tcp(setup, host, port)
        shown_host, shown_port = served.address
        click.echo(
            f"Modem for {sim} on {shown_host}:{shown_port} (socket://{shown_host}:{shown_port})"
        )
        try:
            await asyncio.Event().wait()
        finally:
            await served.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
    setup.api.close()
