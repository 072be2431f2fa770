"""A virtual cellular modem: AT commands over TCP or a pseudo-terminal, acting through
fleetsim's device API."""
