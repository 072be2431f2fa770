"""SMS Commands: text messages between a Super SIM's device and the account's application
(`routes`, `service`, `wire`; delivery in `lifecycle`; the device side in `device_routes`)."""
