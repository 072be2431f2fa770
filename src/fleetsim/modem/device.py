"""A client of fleetsim's device API: what one Sim's device asks of the network.

The `fleetsim device` command and the virtual modem both speak to the server through it,
so every rule (attach, data limits, SMS to 000) is the server's.

    DeviceApiError            the server answered 4xx/5xx: status, Twilio code, message
    DeviceApiUnreachable      no answer (connection refused, timeout)
"""

from __future__ import annotations

from typing import Any

import httpx2

__all__ = ["DeviceApi", "DeviceApiError", "DeviceApiUnreachable"]


class DeviceApiError(Exception):
    """The device API refused the call: HTTP status, Twilio error code and message."""

    def __init__(self, status: int, code: int | None, message: str) -> None:
        super().__init__(f"{message} (error {code})")
        self.status = status
        self.code = code
        self.message = message


class DeviceApiUnreachable(Exception):
    """The server did not answer."""


class DeviceApi:
    """The device API of the server at `url`, with an account's credentials."""

    def __init__(self, url: str, account: str, token: str, *, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self._http = httpx2.Client(auth=(account, token), timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DeviceApi:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def call(self, method: str, path: str, data: dict[str, str] | None = None) -> Any:
        """One call; the JSON answer (None for 204), or DeviceApiError."""
        try:
            response = self._http.request(method, self.url + path, data=data)
        except httpx2.HTTPError as exc:
            raise DeviceApiUnreachable(f"Cannot reach fleetsim at {self.url} ({exc})") from None
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {"message": response.text}
            raise DeviceApiError(response.status_code, body.get("code"), str(body.get("message")))
        return response.json() if response.content else None

    # The device's operations, by name.

    def state(self, sim: str) -> dict[str, Any]:
        return dict(self.call("GET", f"/devices/{sim}"))

    def networks(self, sim: str) -> list[dict[str, Any]]:
        return list(self.call("GET", f"/devices/{sim}/networks")["networks"])

    def attach(
        self,
        sim: str,
        *,
        network: str | None = None,
        mcc: str | None = None,
        mnc: str | None = None,
    ) -> dict[str, Any]:
        form = {k: v for k, v in {"Network": network, "Mcc": mcc, "Mnc": mnc}.items() if v}
        return dict(self.call("POST", f"/devices/{sim}/attach", form))

    def detach(self, sim: str) -> dict[str, Any]:
        return dict(self.call("POST", f"/devices/{sim}/detach"))

    def use_data(self, sim: str, *, upload: int, download: int) -> dict[str, Any]:
        form = {"Upload": str(upload), "Download": str(download)}
        return dict(self.call("POST", f"/devices/{sim}/data", form))

    def send_sms(self, sim: str, body: str, to: str = "000") -> dict[str, Any]:
        return dict(self.call("POST", f"/devices/{sim}/sms", {"To": to, "Body": body}))

    def send_udp(self, sim: str, *, source_port: int, payload: str) -> dict[str, Any]:
        """A datagram (Base64 `payload`) to 100.64.0.1: an IP Command from the Sim."""
        form = {"SourcePort": str(source_port), "Payload": payload}
        return dict(self.call("POST", f"/devices/{sim}/udp", form))

    def inbox(self, sim: str, *, after: int | None = None) -> list[dict[str, Any]]:
        """Messages received (after the message `after`), oldest first, every page."""
        query = f"/devices/{sim}/inbox?PageSize=1000" + (f"&After={after}" if after else "")
        messages: list[dict[str, Any]] = []
        while query:
            body = self.call("GET", query)
            messages.extend(body["messages"])
            next_url = body["meta"].get("next_page_url")
            query = next_url.split("/devices/", 1)[1] if next_url else ""
            query = f"/devices/{query}" if query else ""
        return messages

    def delete_message(self, sim: str, index: int) -> None:
        self.call("DELETE", f"/devices/{sim}/inbox/{index}")
