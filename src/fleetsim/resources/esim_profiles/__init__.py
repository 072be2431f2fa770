"""eSIM Profiles: reserve a profile on the SM-DP+ for a device's eUICC (`routes`, `service`,
`wire`; the stock in `stock`; reservation in `lifecycle`; the device side in `smdp` and
`smdp_routes`)."""
