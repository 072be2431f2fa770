"""One folder per resource: `service.py` (rules), and where a resource has them, its
lifecycle jobs (`lifecycle.py`). Its HTTP routes and wire shapes belong in `fleetsim.api`."""
