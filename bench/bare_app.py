"""The reference for bench/api.py: a bare Starlette app on uvicorn, one worker, returning a
fixed JSON body of 600 bytes to every GET and POST. It is the practical limit of a Python
server on the machine; fleetsim's figures are read as a ratio of it. With
--fleetsim-protocol it runs on the HTTP protocol `fleetsim serve` runs (a response's head
and body in one write), to show how much of fleetsim's figures that protocol accounts for.

    .venv/bin/python bench/bare_app.py --port 8099
"""

from __future__ import annotations

import argparse
import json

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

BODY_BYTES = 600


def _fixed_body() -> dict[str, str]:
    """A Sim-like object padded so that its compact JSON is exactly BODY_BYTES long."""
    body = {
        "sid": "HS" + "0" * 32,
        "account_id": "AC" + "0" * 32,
        "status": "active",
        "padding": "",
    }
    size = len(json.dumps(body, separators=(",", ":")))
    body["padding"] = "x" * (BODY_BYTES - size)
    return body


BODY = _fixed_body()


async def fixed(request: Request) -> Response:
    if request.method == "POST":
        await request.body()
    return JSONResponse(BODY)


app = Starlette(routes=[Route("/{path:path}", fixed, methods=["GET", "POST"])])


def main() -> None:
    parser = argparse.ArgumentParser(description="bare Starlette reference app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument(
        "--fleetsim-protocol",
        action="store_true",
        help="serve with fleetsim's HTTP protocol (head and body in one write), not uvicorn's",
    )
    args = parser.parse_args()
    if args.fleetsim_protocol:
        from fleetsim.app.http_protocol import HttpProtocol

        uvicorn.run(app, host=args.host, port=args.port, log_level="warning", http=HttpProtocol)
    else:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
