"""`GET /`: a small page for whoever opens the server's address in a browser."""

from __future__ import annotations

from tests.api.conftest import Api


def test_the_root_links_the_console_the_docs_the_openapi_document_and_health(api: Api) -> None:
    response = api.client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    for link in ('href="/console"', 'href="/openapi.json"', 'href="/health"'):
        assert link in page
    assert 'href="/openapi/coverage"' in page
    assert "docs/" in page  # where the documentation is
    assert "/v1" in page


def test_the_root_takes_no_credentials_and_shows_nothing_of_an_account(api: Api) -> None:
    response = api.client.get("/", auth=(api.creds.username, api.creds.password))

    assert response.status_code == 200
    assert api.creds.account_sid not in response.text
