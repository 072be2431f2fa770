"""A stand-in for MicroPython's `machine` module on a desktop: `UART` reaches the modem
over TCP (a fleetsim virtual modem, `fleetsim modem SIM --listen HOST:PORT`) instead of
pins. Only what the firmware uses: `write`, `any`, `read`.

Where the modem is: `UART.connect_to(host, port)` before the firmware starts, or the
environment variable FIRMWARE_MODEM=host:port.
"""

import os
import select
import socket


class UART:
    _address = None

    @classmethod
    def connect_to(cls, host, port):
        cls._address = (host, int(port))

    def __init__(self, uart_id, baudrate=115200):
        address = self._address
        if address is None:
            host, _, port = os.environ["FIRMWARE_MODEM"].rpartition(":")
            address = (host, int(port))
        self._sock = socket.create_connection(address, timeout=10)
        self._sock.setblocking(False)
        self._pending = b""

    def write(self, data):
        self._sock.sendall(data)
        return len(data)

    def any(self):
        """How many bytes can be read now without waiting."""
        readable, _, _ = select.select([self._sock], [], [], 0)
        if readable:
            chunk = self._sock.recv(4096)
            if not chunk:
                raise OSError("the modem hung up")
            self._pending += chunk
        return len(self._pending)

    def read(self, count=None):
        if not self.any():
            return None
        count = len(self._pending) if count is None else count
        data, self._pending = self._pending[:count], self._pending[count:]
        return data

    def deinit(self):
        self._sock.close()
