"""`fleetsim serve --workers N`: N API processes sharing one listening socket.

The command's own process migrates the database, announces the credentials, and then
supervises N uvicorn worker processes (started fresh, not forked, so that each opens its
own database engine). It also keeps the node's background work: the job worker (unless
`--no-worker`) and the UDP bridge run there, once per node, while the API processes only
serve requests. Every process reads and writes the same database; nothing a request
depends on is kept in a process's memory, so any process may answer any request.

The API processes learn their settings from one environment variable, written by the
supervisor before it starts them.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from typing import Any

from starlette.applications import Starlette

__all__ = ["PROCESS_OPTIONS_ENV", "ProcessOptions", "process_app"]

PROCESS_OPTIONS_ENV = "FLEETSIM_API_PROCESS"


@dataclass(frozen=True)
class ProcessOptions:
    database_url: str
    public_url: str | None
    job_lease_seconds: float
    log_format: str = "text"
    log_level: str = "info"

    def to_environment(self) -> None:
        os.environ[PROCESS_OPTIONS_ENV] = json.dumps(asdict(self))

    @classmethod
    def from_environment(cls) -> ProcessOptions:
        raw: dict[str, Any] = json.loads(os.environ[PROCESS_OPTIONS_ENV])
        return cls(**raw)


def process_app() -> Starlette:
    """The app of one API process (uvicorn calls this factory in each worker process)."""
    import datetime as dt

    from fleetsim.app.asgi import create_app
    from fleetsim.app.logs import configure_logging
    from fleetsim.app.setup import build_runtime
    from fleetsim.db.dialect import create_database_engine

    options = ProcessOptions.from_environment()
    configure_logging(options.log_format, options.log_level)  # type: ignore[arg-type]
    # The supervisor migrated the database and set the clock; this reads the clock mode.
    engine = create_database_engine(options.database_url)
    runtime = build_runtime(
        engine,
        public_url=options.public_url,
        lease=dt.timedelta(seconds=options.job_lease_seconds),
    )
    return create_app(runtime)
