"""SMS Commands: text messages between a Super SIM's device and the account's application
(`service`, `wire`; delivery in `lifecycle`; the HTTP side, the device's included, in
`fleetsim.api.sms_commands`)."""
