"""The firmware against fleetsim's virtual modem, driven from the other side through
Twilio's SDK: only the plugin's fixtures (fleetsim_modem serves the modem)."""

import base64
import threading
import time

import pytest
from twilio.request_validator import RequestValidator

from machine import UART
from main import Firmware
from receiver import Receiver


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.close()


def wait_until(condition, firmware, timeout=30):
    """Wait (at most `timeout` seconds) until `condition()` holds; fail if the firmware died."""
    deadline = time.monotonic() + timeout
    while not condition():
        if firmware.error is not None:
            raise firmware.error
        assert time.monotonic() < deadline, f"timed out; the device did {firmware.log}"
        time.sleep(0.05)  # between looks at the condition


@pytest.fixture
def device(fleetsim_client, fleetsim_cards, fleetsim_clock, fleetsim_modem, receiver):
    """An active Sim in a Fleet with webhooks to `receiver`, and the firmware running on
    its modem (booted, registered, its reading sent, its UDP server open)."""
    v1 = fleetsim_client.supersim.v1
    network = v1.networks.list(iso_country="US", limit=1)[0].sid
    profile = v1.network_access_profiles.create(networks=[network])
    fleet = v1.fleets.create(
        network_access_profile=profile.sid,
        sms_commands_url=receiver.url("/sms"),
        ip_commands_url=receiver.url("/ip"),
    )
    (card,) = fleetsim_cards(1)
    sim = v1.sims.create(iccid=card.iccid, registration_code=card.registration_code).sid
    v1.sims(sim).update(fleet=fleet.sid, status="active")
    fleetsim_clock.advance(seconds=60)

    UART.connect_to(*fleetsim_modem(sim))
    firmware = Firmware(UART(0, 115200), report_url=receiver.url("/readings"))
    firmware.error = None
    stop = threading.Event()

    def run():
        try:
            firmware.run(lambda: not stop.is_set())
        except Exception as exc:  # noqa: BLE001 - any failure is shown by wait_until
            firmware.error = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    wait_until(lambda: ("ready", None) in firmware.log, firmware)
    yield firmware, sim
    stop.set()
    thread.join(timeout=10)
    firmware.modem.uart.deinit()


def signed(server, url, headers, body):
    validator = RequestValidator(server.auth_token)
    return validator.validate(url, Receiver.form(body), headers["X-Twilio-Signature"])


def test_an_sms_command_reaches_the_firmware_and_its_reply_the_webhook(
    device, fleetsim_client, fleetsim_clock, fleetsim_server, receiver
):
    firmware, sim = device
    v1 = fleetsim_client.supersim.v1
    fleetsim_clock.advance(seconds=0)  # the boot reading's webhook
    headers, body = receiver.wait_for("/sms", b"temp%3D21.5")
    assert signed(fleetsim_server, receiver.url("/sms"), headers, body)

    v1.sms_commands.create(sim=sim, payload="PING")
    fleetsim_clock.advance(seconds=1)  # delivered to the device
    wait_until(lambda: ("sms", "PONG") in firmware.log, firmware)

    fleetsim_clock.advance(seconds=0)
    headers, body = receiver.wait_for("/sms", b"Payload=PONG")
    assert Receiver.form(body)["SimSid"] == sim
    assert signed(fleetsim_server, receiver.url("/sms"), headers, body)
    replies = [c.payload for c in v1.sms_commands.list(sim=sim, direction="from_sim")]
    assert replies == ["PONG", "reading temp=21.5"]


def test_an_ip_command_reaches_the_udp_server_and_its_reply_comes_back(
    device, fleetsim_client, fleetsim_clock, fleetsim_server, receiver
):
    firmware, sim = device
    v1 = fleetsim_client.supersim.v1
    v1.ip_commands.create(sim=sim, payload="NUM=42", device_port=6969)
    fleetsim_clock.advance(seconds=1)
    wait_until(lambda: ("udp", "ACK NUM=42") in firmware.log, firmware)

    (reply,) = v1.ip_commands.list(sim=sim, direction="from_sim")
    assert base64.b64decode(reply.payload) == b"ACK NUM=42"
    assert reply.device_port == 6969
    fleetsim_clock.advance(seconds=0)
    headers, body = receiver.wait_for("/ip", reply.sid.encode())
    assert signed(fleetsim_server, receiver.url("/ip"), headers, body)


def test_the_http_report_reaches_the_server_and_shows_in_usage_records(
    device, fleetsim_client, receiver
):
    firmware, sim = device
    headers, body = receiver.wait_for("/readings")
    assert body == b"temp=21.5"
    assert headers["Content-Type"] == "text/plain"
    assert ("http", 200) in firmware.log
    (usage,) = fleetsim_client.supersim.v1.usage_records.list(sim=sim)
    assert usage.data_upload > len(b"temp=21.5")
    assert usage.data_download > len(b"OK")
