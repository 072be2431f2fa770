"""The control API: the operator's levers beside the Twilio-compatible API (reset, seed,
clock, progression policies, webhook deliveries)."""
