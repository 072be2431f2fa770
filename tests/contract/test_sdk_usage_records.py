"""UsageRecords through the official `twilio` SDK against a live server on a manual clock:
totals computed here from what two devices sent (a US and a GB network, a Fleet change
mid-way) compared with every Group x Granularity, then every validation error as
TwilioRestException. One server per backend (`--clock manual`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from typing import Any

import httpx2 as httpx
import pytest
from twilio.base import serialize
from twilio.base.exceptions import TwilioException

from tests.contract.conftest import Live
from tests.contract.test_sdk_scenario import rest_error
from tests.support.checks import ok

pytestmark = [pytest.mark.live]

CLOCK_START = "2026-03-01T10:00:00Z"
DIMENSION = {"sim": "sim_sid", "fleet": "fleet_sid", "network": "network_sid"}
DIMENSION["isoCountry"] = "iso_country"
Use = tuple[dt.datetime, dict[str, str], int, int]  # time, dimension values, up, down


@pytest.fixture(scope="module")
def live(manual_live: Live) -> Live:
    return manual_live


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def iso(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _wire(params: dict[str, Any]) -> dict[str, Any]:
    """The SDK's keyword arguments as the query it sends (PascalCase, dates serialized)."""
    names = {"start_time": "StartTime", "end_time": "EndTime", "iso_country": "IsoCountry"}
    return {
        names.get(name, name.capitalize()): serialize.iso8601_datetime(value)
        if isinstance(value, dt.datetime)
        else value
        for name, value in params.items()
    }


def expected(
    uses: list[Use], granularity: str, group: str | None, start: dt.datetime, end: dt.datetime
) -> dict[tuple[str, str | None], tuple[int, int]]:
    """(period start, group value) -> (upload, download), zero buckets when ungrouped."""
    step = {"hour": dt.timedelta(hours=1), "day": dt.timedelta(days=1)}.get(granularity)
    sums: dict[tuple[str, str | None], list[int]] = defaultdict(lambda: [0, 0])
    if group is None:
        first = start
        while first < end:
            sums[(iso(first), None)] = [0, 0]
            first = first + step if step else end
    for when, dims, upload, download in uses:
        hour = when.replace(minute=0, second=0, microsecond=0)
        if not start <= hour < end:
            continue
        first = hour if granularity == "hour" else hour.replace(hour=0)
        key = (iso(first if step else start), dims[group] if group else None)
        sums[key][0] += upload
        sums[key][1] += download
    return {key: (up, down) for key, (up, down) in sums.items()}


def test_usage_records_through_the_sdk(live: Live, control: httpx.Client) -> None:
    v1 = live.client.supersim.v1
    ok(control.post("/control/policies/sim", data={"Policy": "immediate"}))
    us = v1.networks.list(iso_country="US", limit=1)[0].sid
    gb = v1.networks.list(iso_country="GB", limit=1)[0].sid
    profile = v1.network_access_profiles.create(networks=[us, gb]).sid
    fleets = [
        v1.fleets.create(network_access_profile=profile, unique_name=f"usage-fleet-{n}").sid
        for n in range(2)
    ]
    sims = []
    for n, card in enumerate(live.cards[:2]):
        sid = v1.sims.create(iccid=card.iccid, registration_code=card.registration_code).sid
        v1.sims(sid).update(fleet=fleets[0], status="active", unique_name=f"usage-sim-{n}")
        sims.append(sid)
    ok(control.post("/control/clock/advance", data={"Seconds": "10"}))
    uses: list[Use] = []
    state = {sid: {"sim": sid, "fleet": fleets[0]} for sid in sims}

    with live.http() as device:

        def connect(sim: str, network: str) -> None:
            ok(device.post(f"/devices/{sim}/attach", data={"Network": network}))
            state[sim].update(network=network, isoCountry="US" if network == us else "GB")

        def use(sim: str, upload: int, download: int) -> None:
            body = {"Upload": str(upload), "Download": str(download)}
            ok(device.post(f"/devices/{sim}/data", data=body))
            now = ok(control.get("/control/clock"))["now"]
            uses.append((at(now), dict(state[sim]), upload, download))

        def move_to(when: str) -> None:
            ok(control.post("/control/clock/advance", data={"To": when}))

        move_to("2026-03-02T08:20:00Z")
        connect(sims[0], us)
        connect(sims[1], gb)
        use(sims[0], 1_000, 2_000)
        use(sims[1], 50_000, 60_000)
        move_to("2026-03-02T21:05:00Z")
        v1.sims(sims[0]).update(fleet=fleets[1])
        ok(control.post("/control/clock/advance", data={"Seconds": "0"}))
        state[sims[0]]["fleet"] = fleets[1]
        use(sims[0], 3, 4)
        connect(sims[0], gb)
        use(sims[0], 700_000, 800_000)
        move_to("2026-03-03T02:00:00Z")
        use(sims[1], 9, 0)

    start, end = at("2026-03-02T00:00:00Z"), at("2026-03-04T00:00:00Z")
    for granularity in ("all", "day", "hour"):
        for group in (None, "sim", "fleet", "network", "isoCountry"):
            params: dict[str, Any] = {"granularity": granularity, "page_size": 1000}
            if group:
                params["group"] = group
            records = v1.usage_records.list(start_time=start, end_time=end, **params)
            got = {
                (
                    str(r.period["start_time"]) if r.period else "",
                    getattr(r, DIMENSION[group]) if group else None,
                ): (r.data_upload, r.data_download)
                for r in records
            }
            assert got == expected(uses, granularity, group, start, end), (granularity, group)
            assert all(r.billed_unit == "USD" for r in records)

    (mine,) = v1.usage_records.list(sim="usage-sim-0", fleet=fleets[1], start_time=start)
    assert (mine.sim_sid, mine.fleet_sid, mine.network_sid) == (sims[0], fleets[1], None)
    assert (mine.data_upload, mine.data_download) == (700_003, 800_004)
    assert float(mine.data_total_billed or 0) == 0.12  # 4 B in US, 1.5 MB in GB at 0.08

    def fails(code: int, **params: Any) -> None:
        # The SDK's list pages raise the bare TwilioException with the response attached;
        # the SDK's own error parsing (Version.fetch) gives the TwilioRestException.
        with pytest.raises(TwilioException) as caught:
            v1.usage_records.list(**params)
        response = caught.value.args[1]
        assert (response.status_code, json.loads(response.text)["code"]) == (400, code)
        query = _wire(params)
        rest_error(lambda: v1.fetch(method="GET", uri="/UsageRecords", params=query), 400, code)

    day = dt.timedelta(days=1)
    fails(83600, sim="no-such-sim")
    fails(83600, fleet="no-such-fleet")
    fails(83600, network="HW" + "0" * 32)
    fails(83600, start_time=start, end_time=start)
    fails(83601, granularity="day", start_time=start + dt.timedelta(hours=1), end_time=end)
    fails(83602, granularity="hour", start_time=start, end_time=end - dt.timedelta(minutes=1))
    fails(83603, group="sim", start_time=start - 40 * day, end_time=start)
    fails(83604, granularity="day", start_time=start - 100 * day, end_time=start)
    fails(83604, granularity="hour", start_time=start - 32 * day, end_time=start)
    fails(83604, start_time=at("2024-09-10T00:00:00Z"), end_time=at("2026-03-11T00:00:00Z"))
    fails(83605, start_time=start - 600 * day, end_time=start - 590 * day)
    fails(20001, granularity="week")
