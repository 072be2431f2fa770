"""Two `fleetsim serve` nodes on one database: a Bearer token one of them issued is
honoured by the other, expires on the shared manual clock, and ends on either node when
its client is revoked on the other."""

from __future__ import annotations

from pathlib import Path

import httpx2 as httpx
import pytest

from fleetsim.testing import running
from fleetsim.testing.kore import TOKEN_PATH

pytestmark = [pytest.mark.live]


def test_a_token_is_honoured_by_every_node_until_it_expires_or_is_revoked(
    tmp_path: Path,
) -> None:
    database_url = f"sqlite:///{tmp_path / 'shared.db'}"
    with running(database_url=database_url) as first:
        made = first.control(
            "POST", f"/control/accounts/{first.account_sid}/api-clients", Lifetime="1h"
        )
        form = {
            "grant_type": "client_credentials",
            "client_id": made["client_id"],
            "client_secret": made["client_secret"],
        }
        with running(database_url=database_url) as second:
            token = httpx.post(first.url + TOKEN_PATH, data=form).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            assert httpx.get(second.url + "/v1/Sims", headers=headers).status_code == 200

            second.clock.advance(seconds=3600)
            expired = httpx.get(first.url + "/v1/Sims", headers=headers)
            assert expired.status_code == 401
            assert expired.json()["more_info"] == "https://docs.korewireless.com/errors/20003"

            fresh = httpx.post(second.url + TOKEN_PATH, data=form).json()["access_token"]
            headers = {"Authorization": f"Bearer {fresh}"}
            assert httpx.get(first.url + "/v1/Sims", headers=headers).status_code == 200
            revoked = httpx.delete(f"{first.url}/v1/clients/{made['client_id']}", headers=headers)
            assert revoked.status_code == 204
            assert httpx.get(second.url + "/v1/Sims", headers=headers).status_code == 401
