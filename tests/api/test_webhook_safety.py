"""Webhook safety: where webhooks may go (all addresses by default; public ones only with
`--webhook-destinations public`, checked after DNS resolution at delivery, with
`--webhook-allow` exceptions), no redirect followed, response bodies read up to a bound.
Real HTTP: the receiver on 127.0.0.1, and a raw socket for a body that never ends."""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from twilio.request_validator import RequestValidator

from fleetsim.cli.main import main
from fleetsim.webhooks.transport import DestinationPolicy, DestinationRefused, HttpTransport
from tests.api.conftest import Api
from tests.api.test_webhooks import COMPLETION, activate, advance, delivery_for
from tests.support.receiver import Receiver, Reply


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


def test_the_public_policy_refuses_every_non_public_range() -> None:
    public = DestinationPolicy.parse("public")
    refused = [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 - an address under test, not a bind
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
    ]
    for text in refused:
        assert public.refusal(ipaddress.ip_address(text)) is not None, text
    for text in ("8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"):
        assert public.refusal(ipaddress.ip_address(text)) is None, text
    anywhere = DestinationPolicy.parse("any")
    assert anywhere.refusal(ipaddress.ip_address("127.0.0.1")) is None
    allowing = DestinationPolicy.parse("public", ["10.0.0.0/8, 192.168.5.5", "::1"])
    assert allowing.refusal(ipaddress.ip_address("10.9.9.9")) is None
    assert allowing.refusal(ipaddress.ip_address("192.168.5.5")) is None
    assert allowing.refusal(ipaddress.ip_address("::1")) is None
    assert allowing.refusal(ipaddress.ip_address("192.168.5.6")) is not None
    with pytest.raises(ValueError, match="nonsense"):
        DestinationPolicy.parse("public", ["nonsense"])
    with pytest.raises(ValueError, match="'any' or 'public'"):
        DestinationPolicy.parse("private")
    with pytest.raises(DestinationRefused, match="cannot resolve"):
        public.resolve("no-such-host.invalid", 80)


def test_by_default_webhooks_go_anywhere(api: Api, receiver: Receiver) -> None:
    sim = activate(api, receiver.url())
    advance(api, COMPLETION)
    assert receiver.wait_for(1)[0].form["SimSid"] == sim["sid"]


def test_public_only_refuses_a_loopback_receiver_and_records_why(
    api: Api, receiver: Receiver
) -> None:
    api.use_transport(HttpTransport(policy=DestinationPolicy.parse("public")))
    sim = activate(api, receiver.url())
    advance(api, COMPLETION)
    webhook = delivery_for(api, sim["sid"])
    assert webhook["state"] == "pending"  # retried later, as any failed attempt
    (attempt,) = webhook["attempts"]
    assert attempt["status_code"] is None
    assert "refused 127.0.0.1: 127.0.0.1 is not a public address" in attempt["error"]
    assert receiver.requests == []


def test_an_allowed_network_is_reached_by_name_at_the_checked_address(
    api: Api, receiver: Receiver
) -> None:
    policy = DestinationPolicy.parse("public", ["127.0.0.0/8", "::1"])
    api.use_transport(HttpTransport(policy=policy))
    url = f"http://localhost:{receiver.port}/hooks?x=1"
    sim = activate(api, url)
    advance(api, COMPLETION)
    (request,) = receiver.wait_for(1)
    # Sent to the address that was checked, under the URL's own Host, signed for the URL.
    assert request.headers["host"] == f"localhost:{receiver.port}"
    assert RequestValidator(api.creds.password).validate(url, request.form, request.signature)
    assert delivery_for(api, sim["sid"])["state"] == "delivered"


def test_a_redirect_is_not_followed_to_another_host(api: Api, receiver: Receiver) -> None:
    with Receiver() as elsewhere:
        receiver.script(Reply(302, b"", headers=[("Location", elsewhere.url("/stolen"))]))
        sim = activate(api, receiver.url())
        advance(api, COMPLETION)
        webhook = delivery_for(api, sim["sid"])
        assert [a["status_code"] for a in webhook["attempts"]] == [302]
        assert webhook["state"] == "pending"
        assert len(receiver.requests) == 1
        assert elsewhere.requests == []


def test_a_response_body_is_read_only_up_to_the_bound() -> None:
    """A receiver that announces a gigabyte and sends until the client hangs up: the
    transport stops after `max_body` bytes."""
    listener = socket.create_server(("127.0.0.1", 0))
    sent = 0
    done = threading.Event()

    def serve() -> None:
        nonlocal sent
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n")
            chunk = b"x" * 65536
            try:
                while sent < 1_000_000_000:
                    connection.sendall(chunk)
                    sent += len(chunk)
            except OSError:
                pass  # the client closed the connection: what the test wants
        done.set()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    transport = HttpTransport(timeout_seconds=10.0, max_body=64 * 1024)
    port = listener.getsockname()[1]
    result = transport.send("POST", f"http://127.0.0.1:{port}/", {}, b"")
    transport.close()
    assert done.wait(10.0), "the transport kept reading"
    listener.close()
    assert result.status_code == 200
    assert result.body_excerpt == "x" * 2000
    # What the kernel buffered beyond the bound, not the gigabyte announced.
    assert sent < 64 * 1024 * 1024


def test_serve_refuses_an_allowlist_entry_that_is_not_a_network() -> None:
    result = CliRunner().invoke(
        main, ["serve", "--webhook-destinations", "public", "--webhook-allow", "intranet"]
    )
    assert result.exit_code == 2
    assert "not an address or network (CIDR): 'intranet'" in result.output
