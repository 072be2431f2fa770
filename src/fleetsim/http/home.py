"""`GET /`: a small page for whoever opens the server's address in a browser, pointing at
what there is to use. It takes no credentials and shows nothing of any account."""

from __future__ import annotations

from importlib.metadata import version

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

__all__ = ["HOME_ROUTES"]

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fleetsim</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:sans-serif;margin:2em;max-width:40em;line-height:1.5}}</style>
</head><body>
<h1>fleetsim {version}</h1>
<p>The Super SIM v1 API with a simulated cellular network behind it.</p>
<ul>
<li><a href="/console">The web console</a>: sign in with an Account SID and Auth Token.</li>
<li>The Super SIM API under <code>/v1</code>, the device API under <code>/devices</code>,
the control API under <code>/control</code>.</li>
<li><a href="/openapi.json">/openapi.json</a>: the OpenAPI document of every operation;
<a href="/openapi/coverage">/openapi/coverage</a>: what is implemented, and where fleetsim
differs from Twilio.</li>
<li><a href="/health">/health</a> and <a href="/metrics">/metrics</a>.</li>
</ul>
<p>The documentation is in the <code>docs/</code> folder of fleetsim's source, with the
README; <code>mkdocs serve</code> there shows it as a site.</p>
</body></html>
"""


async def home(request: Request) -> Response:
    """A page that links the console, the documents and the service endpoints."""
    return HTMLResponse(_PAGE.format(version=version("fleetsim")))


HOME_ROUTES = [Route("/", home, methods=["GET"], name="home")]
