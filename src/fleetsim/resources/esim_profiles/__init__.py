"""eSIM Profiles: reserve a profile on the SM-DP+ for a device's eUICC (`service`; the stock
in `stock`; reservation in `lifecycle`; the SM-DP+ side in `smdp`; the HTTP side in
`fleetsim.api.esim_profiles`)."""
