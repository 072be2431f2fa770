"""Requests that race for one Sim: each rule holds as if they came one by one (the Sim is
locked while it changes on PostgreSQL; SQLite's writes take turns)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import httpx2 as httpx
from sqlalchemy import select

from fleetsim.db.dialect import dispose_loop_engine
from fleetsim.db.tables import Job
from fleetsim.db.units import transaction
from fleetsim.resources.sims.lifecycle import COMPLETE_UPDATE
from fleetsim.resources.sms_commands.lifecycle import DELIVER
from tests.api.conftest import BASE, Api, assert_error
from tests.api.network_fixtures import advance, connectable_sim

RACERS = 16


def at_once(api: Api, requests: list[tuple[str, str, dict[str, str]]]) -> list[httpx.Response]:
    """Send every request at the same moment to the in-process app; the responses in order."""
    app = api.client.app
    auth = (api.creds.username, api.creds.password)

    async def send_all() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        try:
            async with httpx.AsyncClient(transport=transport, base_url=BASE, auth=auth) as client:
                return list(
                    await asyncio.gather(
                        *(
                            client.request(method, path, data=form)
                            for method, path, form in requests
                        )
                    )
                )
        finally:
            # The app's lifespan closes its loop's connections; this loop runs it without.
            await dispose_loop_engine(api.engine)

    return asyncio.run(send_all())


def jobs_of(api: Api, kind: str) -> list[dict[str, Any]]:
    """The payloads of the jobs of `kind`."""
    with transaction(api.engine, write=False) as tx:
        rows = tx.session.execute(select(Job.payload).where(Job.kind == kind)).scalars().all()
    return [json.loads(payload) for payload in rows]


def test_status_changes_at_once_schedule_exactly_one(api: Api) -> None:
    sim = connectable_sim(api)
    path = f"/v1/Sims/{sim.sid}"

    responses = at_once(api, [("POST", path, {"Status": "inactive"})] * RACERS)

    statuses = Counter(response.status_code for response in responses)
    assert statuses == {202: 1, 400: RACERS - 1}, [r.text for r in responses]
    for refused in (r for r in responses if r.status_code == 400):
        assert_error(refused, 400, 83010, "an earlier update of this Super SIM is in progress")
    assert api.get(path).json()["status"] == "scheduled"
    sim_id = _sim_id(api, sim.sid)
    # One completion job for its activation, and one for the change that won.
    assert [job["sim_id"] for job in jobs_of(api, COMPLETE_UPDATE)] == [sim_id, sim_id]
    advance(api, 10)
    assert api.get(path).json()["status"] == "inactive"


def test_sms_commands_at_once_are_each_stored_and_delivered_once(api: Api) -> None:
    sim = connectable_sim(api)
    attached = api.post(f"/devices/{sim.sid}/attach", data={"Network": _allowed(api, sim.sid)})
    assert attached.status_code == 200, attached.text
    form = {"Sim": sim.sid}
    requests = [("POST", "/v1/SmsCommands", {**form, "Payload": f"m{i}"}) for i in range(RACERS)]

    responses = at_once(api, requests)

    assert [r.status_code for r in responses] == [201] * RACERS, [r.text for r in responses]
    sids = {r.json()["sid"] for r in responses}
    assert len(sids) == RACERS
    advance(api, 10)
    listed = api.get("/v1/SmsCommands", params={"Sim": sim.sid, "PageSize": 50}).json()
    assert Counter(c["status"] for c in listed["sms_commands"]) == {"delivered": RACERS}
    inbox = api.get(f"/devices/{sim.sid}/inbox", params={"PageSize": 50}).json()
    bodies = [message["payload"] for message in inbox["messages"]]
    assert sorted(bodies) == sorted(f"m{i}" for i in range(RACERS)), "each delivered once"
    assert len(jobs_of(api, DELIVER)) == RACERS


def _sim_id(api: Api, sid: str) -> int:
    with transaction(api.engine, write=False) as tx:
        row = tx.one("SELECT id FROM sims WHERE sid = ?", (sid,))
    assert row is not None
    return int(row[0])


def _allowed(api: Api, sim_sid: str) -> str:
    """A network of the Sim's Fleet's profile."""
    fleet = api.get(f"/v1/Fleets/{api.get(f'/v1/Sims/{sim_sid}').json()['fleet_sid']}").json()
    profile = fleet["network_access_profile_sid"]
    networks = api.get(f"/v1/NetworkAccessProfiles/{profile}/Networks").json()["networks"]
    return str(networks[0]["sid"])
