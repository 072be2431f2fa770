"""All tables, imported from one place because they relate across resources (defined in
`core`, `network` and `provisioning`).

Every resource row has an integer `id` (the keyset for paging: insertion order) and a
public `sid`. Constraints that matter are in the database itself, so they hold when
several server processes share one PostgreSQL.
"""

from __future__ import annotations

from fleetsim.db.tables.core import (
    Account,
    ApiClient,
    ApiKey,
    Base,
    ClockState,
    Fleet,
    Job,
    Network,
    NetworkAccessProfile,
    NetworkAccessProfileNetwork,
    NetworkIdentifier,
    OperatorCredential,
    ProgressionPolicy,
    Sim,
    SimCard,
    SimStatusEvent,
    Webhook,
    WebhookAttempt,
    WebhookSecret,
)
from fleetsim.db.tables.network import (
    BillingPeriod,
    ConnectionEvent,
    Device,
    DeviceMessage,
    EventSink,
    IpCommand,
    SmsCommand,
    UsageDay,
    UsageFleetDay,
    UsageFleetHour,
    UsageHour,
)
from fleetsim.db.tables.provisioning import (
    BulkOperation,
    ConsoleSecret,
    ESimProfile,
    ESimStock,
    SettingsUpdate,
)

__all__ = [
    "Account",
    "ApiClient",
    "ApiKey",
    "Base",
    "BillingPeriod",
    "BulkOperation",
    "ClockState",
    "ConnectionEvent",
    "ConsoleSecret",
    "Device",
    "DeviceMessage",
    "ESimProfile",
    "ESimStock",
    "EventSink",
    "Fleet",
    "IpCommand",
    "Job",
    "Network",
    "NetworkAccessProfile",
    "NetworkAccessProfileNetwork",
    "NetworkIdentifier",
    "OperatorCredential",
    "ProgressionPolicy",
    "SettingsUpdate",
    "Sim",
    "SimCard",
    "SimStatusEvent",
    "SmsCommand",
    "UsageDay",
    "UsageFleetDay",
    "UsageFleetHour",
    "UsageHour",
    "Webhook",
    "WebhookAttempt",
    "WebhookSecret",
]
