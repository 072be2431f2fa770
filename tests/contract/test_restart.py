"""The database is the state: a server stopped with SIGTERM and started again on the same
database (a SQLite file, or a PostgreSQL database) serves the same resources, and the
startup account is made once."""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from twilio.base.exceptions import TwilioRestException

from fleetsim.db.dialect import create_database_engine
from fleetsim.db.tables import Account
from fleetsim.db.uow import unit_of_work
from tests.contract.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    CREDENTIALS_ENV,
    as_dict,
    live_server,
    running,
)
from tests.support.sdk import sdk_client
from tests.support.server import LiveServer

pytestmark = [pytest.mark.live]


def stop(server: LiveServer) -> None:
    """SIGTERM, and the server ends by it, not by the SIGKILL `stop` sends after 15 s.

    uvicorn shuts down gracefully on SIGTERM and then raises the signal again, so the
    exit status of a clean stop is -SIGTERM."""
    process = server.process
    assert process is not None
    server.stop()
    assert process.returncode in (0, -signal.SIGTERM), server.read_log()


def snapshot(server: LiveServer, username: str, password: str) -> dict[str, Any]:
    """Everything the account has, as the SDK reads it, with this server's base URL
    replaced (each start listens on another port)."""
    v1 = sdk_client(server.base_url, username, password).supersim.v1
    profiles = v1.network_access_profiles.list()
    state = {
        "profiles": [as_dict(p.fetch()) for p in profiles],
        "profile_networks": {
            p.sid: [as_dict(n) for n in v1.network_access_profiles(p.sid).networks.list()]
            for p in profiles
        },
        "fleets": [as_dict(f.fetch()) for f in v1.fleets.list()],
        "sims": [as_dict(s.fetch()) for s in v1.sims.list()],
    }
    return json.loads(json.dumps(state, default=str).replace(server.base_url, "<base>"))


def count_accounts(database_url: str) -> int:
    engine = create_database_engine(database_url)
    try:
        with unit_of_work(engine, write=False) as session:
            return session.execute(select(func.count()).select_from(Account)).scalar_one()
    finally:
        engine.dispose()


def test_state_survives_a_restart(database_url: str, tmp_path: Path) -> None:
    with live_server(database_url, tmp_path) as live:
        first, cards, v1 = live.server, live.cards, live.client.supersim.v1
        networks = [n.sid for n in v1.networks.list(iso_country="US", limit=2)]
        profile = v1.network_access_profiles.create(unique_name="restart", networks=networks)
        fleet = v1.fleets.create(
            network_access_profile="restart", unique_name="restart-fleet", data_limit=250
        )
        for number, card in enumerate(cards[:2]):
            sim = v1.sims.create(iccid=card.iccid, registration_code=card.registration_code)
            v1.sims(sim.sid).update(unique_name=f"restart-{number}", fleet=fleet.sid)
        before = snapshot(first, ACCOUNT_SID, AUTH_TOKEN)
        stop(first)

    assert [p["sid"] for p in before["profiles"]] == [profile.sid]
    assert len(before["profile_networks"][profile.sid]) == 2
    assert [f["data_limit"] for f in before["fleets"]] == [250]
    assert [s["fleet_sid"] for s in before["sims"]] == [fleet.sid, fleet.sid]

    with running(database_url, tmp_path) as second:
        assert f"Account SID: {ACCOUNT_SID}" in second.output
        assert "Created an account" not in second.output
        assert snapshot(second, ACCOUNT_SID, AUTH_TOKEN) == before

        # The registered cards stay registered; the third is still free.
        v1 = sdk_client(second.base_url, ACCOUNT_SID, AUTH_TOKEN).supersim.v1
        with pytest.raises(TwilioRestException) as caught:
            v1.sims.create(iccid=cards[0].iccid, registration_code=cards[0].registration_code)
        assert caught.value.code == 83003
        third = v1.sims.create(iccid=cards[2].iccid, registration_code=cards[2].registration_code)
        assert third.sid not in {s["sid"] for s in before["sims"]}
        stop(second)

    assert count_accounts(database_url) == 1


def announced_credentials(log: str) -> tuple[str, str]:
    sid = re.search(r"Account SID:\s+(AC[0-9a-f]{32})\s*$", log, re.MULTILINE)
    token = re.search(r"Auth Token:\s+(\S+)\s*$", log, re.MULTILINE)
    assert sid, log
    assert token, log
    return sid.group(1), token.group(1)


def test_first_start_announces_a_new_account_once(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in CREDENTIALS_ENV:
        monkeypatch.delenv(name, raising=False)

    with running(database_url, tmp_path, env={}) as first:
        assert "Created an account for this database:" in first.output
        sid, token = announced_credentials(first.output)
        assert re.fullmatch(r"[0-9a-f]{32}", token), "shaped like Twilio's (twilio-go checks)"
        v1 = sdk_client(first.base_url, sid, token).supersim.v1
        profile = v1.network_access_profiles.create(unique_name="announced")
        assert profile.account_sid == sid
        with pytest.raises(TwilioRestException) as caught:
            sdk_client(first.base_url, sid, "0" * 32).supersim.v1.fleets(profile.sid).fetch()
        assert (caught.value.status, caught.value.code) == (401, 20003)
        stop(first)

    with running(database_url, tmp_path, env={}) as second:
        assert "Account SID:" not in second.output
        assert "Auth Token:" not in second.output
        assert "Accounts exist already" in second.output
        v1 = sdk_client(second.base_url, sid, token).supersim.v1
        assert [p.sid for p in v1.network_access_profiles.list()] == [profile.sid]
        stop(second)

    assert count_accounts(database_url) == 1
