"""The `fleetsim` command.

Each subcommand's module is imported when the subcommand runs (or when `--help` lists
them): the server's modules take most of a second to import, which a command such as
`fleetsim device attach`, typed again and again while testing firmware, need not pay.
"""

from __future__ import annotations

import importlib

import click

__all__ = ["main"]

# Each subcommand, by name, as module:attribute.
_COMMANDS = {
    "accounts": "fleetsim.cli.admin:accounts",
    "api-clients": "fleetsim.cli.admin:api_clients",
    "device": "fleetsim.cli.device:device",
    "esim": "fleetsim.cli.provisioning:esim",
    "events": "fleetsim.cli.admin:events",
    "inventory": "fleetsim.cli.admin:inventory",
    "keys": "fleetsim.cli.admin:keys",
    "migrate": "fleetsim.cli.server:migrate",
    "modem": "fleetsim.cli.modem:modem",
    "serve": "fleetsim.cli.server:serve",
    "settings-updates": "fleetsim.cli.provisioning:settings_updates",
    "simulate": "fleetsim.cli.simulate:simulate",
    "worker": "fleetsim.cli.server:worker_command",
}


class _Commands(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attribute = target.split(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        _whole_descriptions(command)
        return command


def _whole_descriptions(command: click.Command) -> None:
    """List each command with its description's whole first paragraph: click otherwise
    cuts it at 45 characters, often mid-sentence."""
    if command.short_help is None and command.help:
        command.short_help = " ".join(command.help.split("\n\n", 1)[0].split())
    if isinstance(command, click.Group):
        for subcommand in command.commands.values():
            _whole_descriptions(subcommand)


@click.group(cls=_Commands)
@click.version_option(package_name="fleetsim")
def main() -> None:
    """fleetsim: the Super SIM v1 API with a simulated cellular network behind it."""
