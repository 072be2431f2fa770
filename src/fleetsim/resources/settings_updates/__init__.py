"""Settings Updates: the settings packages on each Super SIM, from manufacture and over the
air (`routes`, `service`, `wire`; the packages in `packages`; progress in `lifecycle`)."""
