"""UsageRecords on the wire.

Deviation: `data_total_billed` is a JSON number (the spec's type), rounded half-up to
cents; Twilio's recorded fixtures show it as a string ("0.03"). The SDK reads either.
`billed_unit` is always the rate card's currency (fleetsim bills as it counts).
"""

from __future__ import annotations

from typing import Any

from fleetsim.core.dates import iso
from fleetsim.resources.usage_records.service import UsageFilters, UsageRecord

__all__ = ["parse_filters", "render_usage_record"]


def parse_filters(params: dict[str, Any]) -> UsageFilters:
    return UsageFilters(
        sim=params.get("Sim"),
        fleet=params.get("Fleet"),
        network=params.get("Network"),
        iso_country=params.get("IsoCountry"),
        group=params.get("Group"),
        granularity=params.get("Granularity", "all"),
        start_time=params.get("StartTime"),
        end_time=params.get("EndTime"),
    )


def render_usage_record(record: UsageRecord, account_sid: str) -> dict[str, Any]:
    return {
        "period": {"start_time": iso(record.start), "end_time": iso(record.end)},
        "account_sid": account_sid,
        "data_upload": record.upload,
        "data_download": record.download,
        "data_total": record.upload + record.download,
        "data_total_billed": float(record.billed),
        "billed_unit": record.currency,
        "sim_sid": record.sim_sid,
        "fleet_sid": record.fleet_sid,
        "network_sid": record.network_sid,
        "iso_country": record.iso_country,
    }
