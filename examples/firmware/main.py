"""A small device program in the style of a MicroPython application on a Super SIM
starter kit (a microcontroller wired to a SIMCom SIM7080G): it boots the modem,
configures it, waits for the network, sends a reading by SMS to 000 (and, if given a
URL, by HTTP through the modem's own HTTP client), then answers what arrives:

    SMS Commands (+CMTI -> AT+CMGR):   PING -> PONG, TEMP? -> TEMP=21.5
    IP Commands on UDP port 6969:      NUM=<n> -> ACK NUM=<n>

On a board, `machine.UART(0, 115200)` is the serial line to the modem; here `machine.py`
stands in for it and reaches a fleetsim virtual modem over TCP.
"""

import utime
from machine import UART

UDP_PORT = 6969
NETWORK = "100.64.0.1"
NETWORK_PORT = 6655
READING = "temp=21.5"
FINAL = ("OK", "ERROR", "+CME ERROR", "+CMS ERROR")
REPORTS = ("+CMTI:", "+CANEW:", "+CADATAIND:", "+APP PDP:", "+CASEND:", "+SHREQ:", "+CEREG:")


class ModemError(Exception):
    pass


class Modem:
    """AT commands over a UART: command lines out, responses and reports in."""

    def __init__(self, uart):
        self.uart = uart
        self.buffer = b""
        self.reports = []  # unsolicited reports, oldest first

    def _fill(self):
        data = self.uart.read()
        if data:
            self.buffer += data
            return True
        return False

    def _line(self, deadline):
        """The next line, '>' for a prompt, or None at the deadline."""
        while True:
            stripped = self.buffer.lstrip(b"\r\n")
            if stripped.startswith(b"> "):
                self.buffer = stripped[2:]
                return ">"
            end = self.buffer.find(b"\r\n")
            if end >= 0:
                line, self.buffer = self.buffer[:end], self.buffer[end + 2 :]
                if line.startswith(b"+SHREAD: "):
                    return self._shread(line, deadline)
                return line.decode()
            if utime.ticks_diff(utime.ticks_ms(), deadline) >= 0:
                return None
            if not self._fill():
                utime.sleep_ms(5)

    def _shread(self, line, deadline):
        """`+SHREAD: <n>` is followed by n bytes: kept as one report."""
        count = int(line.decode().split(":")[1])
        while len(self.buffer) < count + 2:
            if utime.ticks_diff(utime.ticks_ms(), deadline) >= 0:
                raise ModemError("the HTTP body did not arrive")
            if not self._fill():
                utime.sleep_ms(5)
        data, self.buffer = self.buffer[:count], self.buffer[count + 2 :]
        self.reports.append("+SHREAD: " + data.decode())
        return ""

    def send(self, command, timeout=5000, prompt=False):
        """Send a command line; its response lines up to the final result (or the '>')."""
        self.uart.write((command + "\r\n").encode())
        return self.response(timeout, prompt, command)

    def response(self, timeout=5000, prompt=False, command=""):
        deadline = utime.ticks_ms() + timeout
        answer = (command[2:].split("=")[0].rstrip("?") or "-") + ":"
        lines = []
        while True:
            line = self._line(deadline)
            if line is None:
                raise ModemError("no answer to " + (command or "the data"))
            if not line or line == command:  # blank, or the echo
                continue
            if line == ">" and prompt:
                return lines
            if line.startswith(REPORTS) and not line.startswith(answer):
                self.reports.append(line)
                continue
            lines.append(line)
            if line.startswith(FINAL):
                return lines

    def ok(self, command, timeout=5000):
        lines = self.send(command, timeout)
        if lines[-1] != "OK":
            raise ModemError(command + " -> " + lines[-1])
        return lines[:-1]

    def listen(self, timeout):
        """Read reports for up to `timeout` ms."""
        deadline = utime.ticks_ms() + timeout
        while True:
            line = self._line(deadline)
            if line is None:
                return
            if line:
                self.reports.append(line)

    def wait_report(self, prefix, timeout=10000):
        deadline = utime.ticks_ms() + timeout
        while True:
            for report in self.reports:
                if report.startswith(prefix):
                    self.reports.remove(report)
                    return report
            left = utime.ticks_diff(deadline, utime.ticks_ms())
            if left <= 0:
                raise ModemError("no " + prefix)
            self.listen(min(left, 100))


class Firmware:
    def __init__(self, uart, report_url=None):
        self.modem = Modem(uart)
        self.report_url = report_url
        self.log = []  # what the device did, for whoever watches

    def boot(self):
        for _ in range(20):
            try:
                if self.modem.send("AT", 1000)[-1] == "OK":
                    break
            except ModemError:
                pass
        else:
            raise ModemError("the modem does not answer")
        # Echo off, verbose errors, text-mode SMS, delete old SMS, Cat-M only, APN super.
        self.modem.ok("ATE0")
        self.modem.ok('AT+CMEE=2;+CMGF=1;+CMGD=,4;+CNMP=38;+CMNB=1;+CGDCONT=1,"IP","super"')

    def wait_for_network(self, timeout=30000):
        deadline = utime.ticks_ms() + timeout
        while utime.ticks_diff(deadline, utime.ticks_ms()) > 0:
            status = self.modem.ok("AT+CEREG?")[0].split(",")[-1]
            if status in ("1", "5"):
                return
            utime.sleep_ms(200)
        raise ModemError("not registered")

    def send_sms(self, text):
        self.modem.send('AT+CMGS="000"', prompt=True)
        self.modem.uart.write(text.encode() + b"\x1a")
        lines = self.modem.response(10000)
        if lines[-1] != "OK":
            raise ModemError("SMS not sent: " + lines[-1])
        self.log.append(("sms", text))

    def open_data(self):
        status = self.modem.ok("AT+CNACT?")[0].split(",")[1]
        if status == "0":
            self.modem.ok("AT+CNACT=0,1")
            self.modem.wait_report("+APP PDP: 0,ACTIVE")
        self.modem.ok(f'AT+CASERVER=0,0,"UDP",{UDP_PORT}')
        self.modem.ok(f'AT+CACFG="REMOTEADDR",0,{NETWORK},{NETWORK_PORT}')

    def send_udp(self, text):
        self.modem.send(f"AT+CASEND=0,{len(text)}", prompt=True)
        self.modem.uart.write(text.encode())
        if self.modem.response(10000)[-1] != "OK":
            raise ModemError("datagram not sent")
        self.log.append(("udp", text))

    def http_report(self, url, body):
        """POST `body` to `url` with the modem's HTTP client; the status."""
        scheme, _, rest = url.partition("://")
        host, _, path = rest.partition("/")
        self.modem.ok(f'AT+SHCONF="URL","{scheme}://{host}";+SHCONF="BODYLEN",1024')
        self.modem.ok("AT+SHCONN", 10000)
        self.modem.ok('AT+SHCHEAD;+SHAHEAD="Content-Type","text/plain"')
        self.modem.send(f"AT+SHBOD={len(body)},10000", prompt=True)
        self.modem.uart.write(body.encode())
        self.modem.response()
        self.modem.ok(f'AT+SHREQ="/{path}",3', 10000)
        report = self.modem.wait_report("+SHREQ:", 30000)
        status, length = report.split(",")[1:3]
        if int(length):
            self.modem.ok(f"AT+SHREAD=0,{length}")
            self.modem.wait_report("+SHREAD:")
        self.modem.ok("AT+SHDISC")
        self.log.append(("http", int(status)))
        return int(status)

    def answer_sms(self, text):
        command = text.strip().upper()
        if command == "PING":
            return "PONG"
        if command == "TEMP?":
            return "TEMP=21.5"
        return "UNKNOWN " + text

    def answer_ip(self, text):
        if text.startswith("NUM="):
            return "ACK " + text
        return "UNKNOWN"

    def step(self, wait=200):
        """Listen a while, then act on what arrived."""
        self.modem.listen(wait)
        reports, self.modem.reports = self.modem.reports, []
        for report in reports:
            if report.startswith("+CMTI:"):
                index = report.split(",")[1]
                lines = self.modem.ok("AT+CMGR=" + index)
                self.send_sms(self.answer_sms(lines[1]))
                self.modem.ok("AT+CMGD=" + index)
            elif report.startswith(("+CANEW:", "+CADATAIND:")):
                received = self.modem.ok("AT+CARECV=0,100")[0]
                if received != "+CARECV: 0":
                    self.send_udp(self.answer_ip(received.split(",", 1)[1]))

    def start(self):
        self.boot()
        self.wait_for_network()
        self.send_sms("reading " + READING)
        self.open_data()
        if self.report_url:
            self.http_report(self.report_url, READING)
        self.log.append(("ready", None))

    def run(self, keep_going=lambda: True):
        self.start()
        while keep_going():
            self.step()


if __name__ == "__main__":
    Firmware(UART(0, 115200)).run()
