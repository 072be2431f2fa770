"""The console side of `fleetsim serve --demo`: seeding with a spinner, then what to try."""

from __future__ import annotations

import shlex
import sys
import time

import click
from rich.console import Console

from fleetsim.demo import DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, seed_demo
from fleetsim.http.runtime import Runtime

__all__ = ["print_next_steps", "seed_with_progress"]

err = Console(stderr=True)


def seed_with_progress(runtime: Runtime) -> None:
    began = time.perf_counter()
    with err.status("Seeding the demo account (Fleets, Sims, a week of usage)..."):
        summary = seed_demo(runtime.engine, clock=runtime.clock, sids=runtime.sids)
    elapsed = time.perf_counter() - began
    what = "Seeded" if summary.seeded else "Found"
    click.echo(
        f"{what} the demo account: {summary.fleets} Fleets, {summary.sims} Sims, "
        f"{summary.attached} devices on a network ({elapsed:.1f}s); devices send traffic "
        "every 20 s while the server runs."
    )


def print_next_steps(base: str) -> None:
    sid, token = DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN
    click.echo("Demo account (published credentials: for this local demo only):")
    click.echo(f"  Account SID: {sid}")
    click.echo(f"  Auth Token:  {token}")
    click.echo("Try:")
    click.echo(f"  curl -u {sid}:{token} '{base}/v1/Sims?Status=active&PageSize=5'")
    click.echo(f"  curl -u {sid}:{token} '{base}/v1/UsageRecords?Granularity=day'")
    # The interpreter running this server has fleetsim (and the SDK, if installed); the
    # `python` on the user's PATH may not.
    click.echo(
        f"  {shlex.quote(sys.executable)} -c 'from fleetsim.testing import fleetsim_client; "
        f'c = fleetsim_client("{base}", "{sid}", "{token}"); '
        "print([f.unique_name for f in c.supersim.v1.fleets.list()])'"
    )
    click.echo(f"  Console: {base}/console    Metrics: {base}/metrics")
