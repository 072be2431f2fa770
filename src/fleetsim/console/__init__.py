"""The web console, served by `fleetsim serve` at /console: server-rendered pages over the
same services as the API (see `routes` for the list)."""
