"""One folder per resource: `routes.py` (thin HTTP), `service.py` (rules), `wire.py`
(PascalCase in, snake_case out)."""
