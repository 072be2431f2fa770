"""General commands: ITU-T V.250 basics (`E`, `V`, `Q`, `I`, `Z`, `&F`, S-registers) and
3GPP TS 27.007 identification (`+CGMI`, `+CGMM`, `+CGMR`, `+CGSN`, `+CCID`, `+CPIN`,
`+CMEE`), plus the configuration commands firmware sends to a SIM7080G that change
nothing fleetsim simulates (band and mode selection, sleep, power saving): they are kept
and read back, and answered OK.
"""

from __future__ import annotations

from fleetsim.modem.parser import Command, Form
from fleetsim.modem.session import CmeError, Handler, Session

__all__ = ["BG96", "HANDLERS", "SIM7080G", "identity", "int_arg"]

# Deviation: the revision strings are made up; the makers' have this shape.
SIM7080G = ("SIMCOM INCORPORATED", "SIMCOM_SIM7080G", "Revision:1951B16SIM7080-FLEETSIM")
BG96 = ("Quectel", "BG96", "Revision: BG96MAR02A07M1G-FLEETSIM")

# Harmless settings: name → (power-on value, test answer). Values from SIMCom's SIM7080
# Series AT Command Manual where it gives them; test answers are abbreviated.
SETTINGS: dict[str, tuple[str, str]] = {
    "+CNMP": ("2", "(2,13,38,51)"),  # preferred mode: automatic
    "+CMNB": ("3", "(1-3)"),  # CAT-M and NB-IoT
    "+CBANDCFG": ('"CAT-M",1,2,3,4,5,8,12,13,18,19,20,26,28', ""),
    "+CPSMS": ("0", "(0,1)"),
    "+CEDRXS": ("0", "(0-3)"),
    "+CSCLK": ("0", "(0-2)"),
    "+CLTS": ("0", "(0,1)"),
    "+CTZR": ("0", "(0,1)"),
    "+IPR": ("115200", "(0,9600,19200,38400,57600,115200)"),
    "+IFC": ("0,0", "(0-2),(0-2)"),
    "+CSCS": ('"IRA"', '("IRA","GSM","UCS2")'),
    "+CSMP": ("17,167,0,0", ""),
    "+CSDH": ("0", "(0,1)"),
    "+CMGHEX": ("0", "(0,1)"),
    "+CGNSPWR": ("0", "(0,1)"),
}


def int_arg(
    command: Command, position: int, low: int, high: int, default: int | None = None
) -> int:
    """A numeric parameter in [low, high] (or `default` if omitted); +CME ERROR: 50."""
    raw = command.arg(position)
    if raw is None:
        if default is None:
            raise CmeError(50)
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise CmeError(50)
    return int(raw)


async def _echo(session: Session, command: Command) -> None:
    session.echo = int_arg(command, 0, 0, 1, default=0) == 1


async def _verbose(session: Session, command: Command) -> None:
    session.verbose = int_arg(command, 0, 0, 1, default=0) == 1


async def _quiet(session: Session, command: Command) -> None:
    session.quiet = int_arg(command, 0, 0, 1, default=0) == 1


async def _reset(session: Session, command: Command) -> None:
    """`ATZ`, `AT&F`: back to the power-on settings of the command interface."""
    session.echo, session.verbose, session.quiet, session.cmee = True, True, False, 0


async def _ok(session: Session, command: Command) -> None:
    """Accepted and without effect (`AT&W`, `ATS…=`, …)."""


async def _s_register(session: Session, command: Command) -> None:
    """S3/S4/S5 read back their V.250 defaults. Deviation: setting them is accepted and
    has no effect."""
    defaults = {"S3": 13, "S4": 10, "S5": 8, "S0": 0}
    if command.form is Form.READ:
        session.info(f"{defaults.get(command.name, 0):03d}")


def identity(manufacturer: str, model: str, revision: str, *ati: str) -> dict[str, Handler]:
    """The identification commands of a model (`ATI` answers the `ati` lines)."""

    async def identify(session: Session, command: Command) -> None:
        for line in ati:
            session.info(line)

    return {
        "I": identify,
        "+CGMI": _fixed(manufacturer),
        "+GMI": _fixed(manufacturer),
        "+CGMM": _fixed(model),
        "+GMM": _fixed(model),
        "+CGMR": _fixed(revision),
        "+GMR": _fixed(revision),
    }


def _fixed(text: str) -> Handler:
    async def handler(session: Session, command: Command) -> None:
        if command.form is Form.TEST:
            return
        if command.form is not Form.ACTION:
            raise CmeError(4)
        session.info(text)

    return handler


async def _imei(session: Session, command: Command) -> None:
    """`AT+CGSN` answers the IMEI alone; `AT+CGSN=1` as `+CGSN: "<IMEI>"` (27.007 §5.4)."""
    if command.form is Form.TEST:
        session.info("+CGSN: (0-3)")
        return
    state = await session.api(session.device_api.state, session.sim)
    if command.form is Form.SET and int_arg(command, 0, 0, 3) == 1:
        session.info(f'+CGSN: "{state["imei"]}"')
    elif command.form in (Form.ACTION, Form.SET):
        session.info(str(state["imei"]))
    else:
        raise CmeError(4)


async def _iccid(session: Session, command: Command) -> None:
    """SIMCom's `AT+CCID` answers the ICCID alone."""
    if command.form is Form.TEST:
        return
    state = await session.api(session.device_api.state, session.sim)
    session.info(str(state["iccid"]))


async def _pin(session: Session, command: Command) -> None:
    """The Super SIM has no PIN: always READY. `AT+CPIN=` is not allowed (no PIN to give)."""
    if command.form is Form.READ:
        session.info("+CPIN: READY")
    elif command.form is not Form.TEST:
        raise CmeError(3)


async def _cmee(session: Session, command: Command) -> None:
    if command.form is Form.READ:
        session.info(f"+CMEE: {session.cmee}")
    elif command.form is Form.TEST:
        session.info("+CMEE: (0-2)")
    else:
        session.cmee = int_arg(command, 0, 0, 2, default=0)


def _setting(name: str) -> Handler:
    default, test = SETTINGS[name]

    async def handler(session: Session, command: Command) -> None:
        if command.form is Form.READ:
            session.info(f"{name}: {session.settings.get(name, default)}")
        elif command.form is Form.TEST:
            if test:
                session.info(f"{name}: {test}")
        elif command.form is Form.SET:
            session.settings[name] = ",".join(
                "" if a is None else (a if a.isdigit() else f'"{a}"') for a in command.args
            )

    return handler


HANDLERS: dict[str, Handler] = {
    "E": _echo,
    "V": _verbose,
    "Q": _quiet,
    "Z": _reset,
    "&F": _reset,
    "&W": _ok,
    "&C": _ok,
    "&D": _ok,
    "+CGSN": _imei,
    "+GSN": _imei,
    "+CCID": _iccid,
    "+CPIN": _pin,
    "+CMEE": _cmee,
    **{f"S{n}": _s_register for n in range(13)},
    **{name: _setting(name) for name in SETTINGS},
}
