"""Vendor KORE Wireless's OpenAPI files (Apache-2.0) from ``../shared`` into the repository.

KORE now runs Super SIM; its clients authenticate with OAuth 2.0 client credentials and
manage API clients and webhook secrets through three small APIs beside the Super SIM one.
fleetsim must not read ``../shared`` at run time or in tests, so this script copies the four
documents into ``src/fleetsim/contract/kore/`` as JSON, without KORE's prose (as
``make_contract.py`` does for Twilio's), together with KORE's LICENSE:

``supersim_v1.json``  the Super SIM API (``kore-supersim-v1.json``): its ``PageSize`` limits
                      are KORE's dialect, and the fuzz tests run over it with Bearer tokens
``token_v1.json``     the token endpoint (``kore_token_api_v1.yaml``)
``client_v1.json``    API client management (``kore_client_v1.yaml``)
``webhook_v1.json``   webhook secrets (``kore-webhook-v1.yaml``)

Run it again when the shared files change and review the diff::

    uv run python scripts/make_kore_contract.py [--shared PATH]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from http import HTTPStatus
from pathlib import Path
from typing import Any

import yaml

from make_contract import (
    APACHE_2,
    APACHE_2_URL,
    DEFAULT_SHARED,
    REPO_ROOT,
    check_document,
    load,
    operations,
    strip_prose,
    write,
)

SOURCE = Path("spec") / "kore"
OUT = REPO_ROOT / "src" / "fleetsim" / "contract" / "kore"
# Vendored name -> KORE's file name.
DOCUMENTS = {
    "supersim_v1.json": "kore-supersim-v1.json",
    "token_v1.json": "kore_token_api_v1.yaml",
    "client_v1.json": "kore_client_v1.yaml",
    "webhook_v1.json": "kore-webhook-v1.yaml",
}


def read(path: Path) -> Any:
    """A JSON or YAML document."""
    if path.suffix == ".json":
        return load(path)
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def kore_document(spec: dict[str, Any], source: str) -> dict[str, Any]:
    """The vendored form of one of KORE's documents."""
    doc: dict[str, Any] = strip_prose({k: v for k, v in spec.items() if k != "info"})
    doc.pop("x-codeSamples", None)
    doc["info"] = {
        "title": f"fleetsim contract derived from KORE's {source}",
        "version": str(spec["info"]["version"]),
        "license": {"name": "Apache 2.0", "url": APACHE_2_URL},
    }
    # OpenAPI requires a description on every response (see make_contract.py).
    for _path, _method, operation in operations(doc):
        for status, response in operation.get("responses", {}).items():
            response["description"] = HTTPStatus(int(status)).phrase
    doc["x-fleetsim-source"] = {
        "publisher": "KORE Wireless",
        "file": source,
        "license": {"name": APACHE_2, "url": APACHE_2_URL},
        "modifications": "KORE's prose and code samples removed; structure unchanged.",
    }
    return doc


def main(argv: list[str] | None = None) -> int:
    """Regenerate the vendored KORE documents and copy KORE's LICENSE beside them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    args = parser.parse_args(argv)
    source_dir: Path = args.shared.resolve() / SOURCE
    for name, source in DOCUMENTS.items():
        spec = read(source_dir / source)
        doc = kore_document(spec, source)
        problems = check_document(spec, doc)
        if problems:
            print(f"{source}:\n" + "\n".join(problems), file=sys.stderr)
            return 1
        write(OUT / name, doc)
    shutil.copyfile(source_dir / "LICENSE", OUT / "LICENSE")
    print(f"copied {(OUT / 'LICENSE').relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
