"""Command lines split into commands (ITU-T V.250 §5.3, §5.4): basic commands back to
back, extended ones joined by `;`, the four forms, quoted and bare parameters."""

from __future__ import annotations

import pytest

from fleetsim.modem.parser import Command, Form, SyntaxProblem, parse_line


def test_basic_commands_follow_one_another() -> None:
    assert parse_line("ATE0V1Q0&FZ") == [
        Command("E", Form.SET, ("0",)),
        Command("V", Form.SET, ("1",)),
        Command("Q", Form.SET, ("0",)),
        Command("&F", Form.ACTION),
        Command("Z", Form.ACTION),
    ]
    assert parse_line("ats3?S0=1") == [Command("S3", Form.READ), Command("S0", Form.SET, ("1",))]
    assert parse_line("ATD*99#;+CSQ") == [Command("D", Form.SET, ("*99#;+CSQ",))]
    assert parse_line("AT") == []


def test_extended_commands_in_their_four_forms() -> None:
    assert parse_line("AT+CSQ;+creg?;+COPS=?;+CMGD=,4") == [
        Command("+CSQ", Form.ACTION),
        Command("+CREG", Form.READ),
        Command("+COPS", Form.TEST),
        Command("+CMGD", Form.SET, (None, "4")),
    ]


def test_quoted_strings_keep_case_commas_and_semicolons() -> None:
    assert parse_line('AT+CMGS="000";+SHAHEAD="X-Note","a,b;c"') == [
        Command("+CMGS", Form.SET, ("000",)),
        Command("+SHAHEAD", Form.SET, ("X-Note", "a,b;c")),
    ]
    assert parse_line('AT+CACFG="REMOTEADDR",0,100.64.0.1,6969') == [
        Command("+CACFG", Form.SET, ("REMOTEADDR", "0", "100.64.0.1", "6969"))
    ]
    assert parse_line('AT+SHSSL=1,""')[0].args == ("1", "")
    assert parse_line("AT+CGDCONT=1, IP ,super ")[0].args == ("1", "IP", "super")


@pytest.mark.parametrize(
    "line",
    ['AT+CMGS="000', 'AT+X="a"b', 'AT+X=a"b"', "AT+", "AT&", "AT&1", "ATS", "ATS3", "AT!"],
)
def test_malformed_lines_are_refused(line: str) -> None:
    with pytest.raises(SyntaxProblem):
        parse_line(line)
