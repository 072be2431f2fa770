"""The server's secret key, which seals auth tokens at rest (see `fleetsim.core.sealing`).

    FLEETSIM_SECRET_KEY set     that string (at least 16 characters), on every database
    unset, SQLite file          a random key in a file beside the database, `<db>.key`,
                                made on first use with mode 0600
    unset, in-memory SQLite     a random key for this process
    unset, PostgreSQL           an error: nodes sharing a database must share the key,
                                so it has to be given

Every node of one database must use the same key: a node with another key cannot open
the tokens (authentication fails with 401 and the log says why).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
import weakref
from pathlib import Path

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from fleetsim.core.sealing import SecretKeyError, TokenBox

__all__ = ["SECRET_KEY_ENV", "key_file_for", "token_box"]

SECRET_KEY_ENV = "FLEETSIM_SECRET_KEY"  # noqa: S105 - a variable name, not a secret

_boxes: dict[tuple[str, str | None], TokenBox] = {}
# Every request opens a token: remember each engine's box (and the setting it came from).
_by_engine: weakref.WeakKeyDictionary[Engine, tuple[str | None, TokenBox]] = (
    weakref.WeakKeyDictionary()
)
_lock = threading.Lock()


def token_box(bind: Engine | Connection | Session) -> TokenBox:
    """The token box of the database behind `bind`."""
    if isinstance(bind, Session):
        bind = bind.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    assert isinstance(engine, Engine)
    configured = os.environ.get(SECRET_KEY_ENV) or None
    known = _by_engine.get(engine)
    if known is not None and known[0] == configured:
        return known[1]
    cache_key = (engine.url.render_as_string(hide_password=False), configured)
    box = _boxes.get(cache_key)
    if box is None:
        with _lock:
            box = _boxes.get(cache_key)
            if box is None:
                box = TokenBox(configured or _unconfigured_secret(engine.url))
                _boxes[cache_key] = box
    _by_engine[engine] = (configured, box)
    return box


def key_file_for(url: URL) -> Path | None:
    """Where the key of a SQLite file database is kept when none is configured."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    database = Path(url.database)
    return database.with_name(database.name + ".key")


def _unconfigured_secret(url: URL) -> str:
    if url.get_backend_name() != "sqlite":
        raise SecretKeyError(
            f"Set {SECRET_KEY_ENV} (at least 16 characters, the same on every node) to use "
            "PostgreSQL: it encrypts the auth tokens stored in the database"
        )
    path = key_file_for(url)
    if path is None:
        return secrets.token_hex(32)
    return _read_or_create(path)


def _read_or_create(path: Path) -> str:
    """The key in `path`, made (atomically, mode 0600) when there is none yet."""
    if not path.exists():
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_hex(32) + "\n")
            # Fails if another process made it first: then theirs is the key.
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    secret = path.read_text(encoding="ascii").strip()
    if not secret:
        raise SecretKeyError(f"The secret key file {path} is empty")
    return secret
