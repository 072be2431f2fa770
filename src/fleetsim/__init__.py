"""fleetsim: a stateful Super SIM v1 API with a simulated cellular network behind it."""

__version__ = "0.1.0"
