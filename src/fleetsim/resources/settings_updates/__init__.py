"""Settings Updates: the settings packages on each Super SIM, from manufacture and over the
air (`service`; the packages in `packages`; progress in `lifecycle`; the HTTP side in
`fleetsim.api.settings_updates`)."""
