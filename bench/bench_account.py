"""The benchmark's account, for bench/api.py: its cards and Sims, the profile and Fleet its
commands go through, and its lifecycles held while the requests alone are measured."""

from __future__ import annotations

import contextlib
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
from harness import Server
from load_sims import load_sims
from sqlalchemy import Engine
from wrk_scripts import ACCOUNT, TOKEN

from fleetsim.app.setup import prepare_database
from fleetsim.core.clock import SystemClock
from fleetsim.db.uow import unit_of_work
from fleetsim.inventory.service import generate_cards, import_cards
from fleetsim.resources.accounts.service import ensure_account

OPERATOR_TOKEN = "benchoperatortoken0001"  # noqa: S105 - the bench's own throwaway server
CARDS = 60_000  # unregistered cards for the register case


def prepare(url: str, sims: int, cards_file: Path) -> Engine:
    engine = prepare_database(url)
    with unit_of_work(engine, write=True) as session:
        ensure_account(session, sid=ACCOUNT, auth_token=TOKEN, clock=SystemClock())
        cards = list(generate_cards(CARDS, random.Random(7)))
        import_cards(session, cards, clock=SystemClock())
    cards_file.write_text(
        "".join(f"Iccid={c.iccid}&RegistrationCode={c.registration_code}\n" for c in cards)
    )
    began = time.perf_counter()
    load_sims(
        engine,
        ACCOUNT,
        sims,
        progress=lambda done: print(f"\rloading Sims: {done:,}", end="", file=sys.stderr),
    )
    elapsed = time.perf_counter() - began
    print(f"\rloaded {sims:,} Sims with bench/load_sims.py in {elapsed:.1f} s", flush=True)
    return engine


def activate(client: httpx2.Client, sids: list[str]) -> str:
    """A Network Access Profile and Fleet; `sids` made active in it (waits for the
    asynchronous update). Returns the profile's SID."""
    network = client.get("/v1/Networks", params={"IsoCountry": "US", "PageSize": 1})
    profile = client.post(
        "/v1/NetworkAccessProfiles",
        data={"UniqueName": "bench", "Networks": network.json()["networks"][0]["sid"]},
    ).json()["sid"]
    client.post("/v1/Fleets", data={"UniqueName": "bench", "NetworkAccessProfile": profile})
    for sid in sids:
        answer = client.post(f"/v1/Sims/{sid}", data={"Fleet": "bench", "Status": "active"})
        answer.raise_for_status()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if all(client.get(f"/v1/Sims/{sid}").json()["status"] == "active" for sid in sids):
            return str(profile)
        time.sleep(0.5)
    raise SystemExit("the Sims did not become active within 60 s (is the job worker running?)")


def profile_network(server: Server) -> str:
    """The SID of a US network, for the profiles the bench creates."""
    with httpx2.Client(base_url=server.url, auth=(ACCOUNT, TOKEN), timeout=60) as client:
        found = client.get("/v1/Networks", params={"IsoCountry": "US", "PageSize": 1})
        return str(found.raise_for_status().json()["networks"][0]["sid"])


@contextlib.contextmanager
def held(server: Server, lifecycle: str) -> Iterator[None]:
    """`lifecycle`'s jobs wait (the `manual` policy) while the block runs: the job worker
    leaves what the requests schedule alone. The default policy is back afterwards."""
    operator = ("operator", OPERATOR_TOKEN)
    with httpx2.Client(base_url=server.url, auth=operator, timeout=60) as control:
        before = control.get("/control/policies").raise_for_status().json()
        (policy,) = [p for p in before["policies"] if p["lifecycle"] == lifecycle]
        path = f"/control/policies/{lifecycle}"
        control.post(path, data={"Policy": "manual"}).raise_for_status()
        try:
            yield
        finally:
            restored = {"Policy": policy["policy"], "Delay": str(policy["delay_seconds"])}
            control.post(path, data=restored).raise_for_status()
