"""The Super SIM REST API and the device API over HTTP: one folder per resource, with
`routes.py` (thin handlers: parse, call one service function, render) and `wire.py`
(PascalCase in, snake_case out). The rules they call live in `fleetsim.resources` and
`fleetsim.network`."""
