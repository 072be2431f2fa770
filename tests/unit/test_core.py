"""Rules of the building blocks: ICCIDs, SIDs, page tokens, clocks, parameter parsing."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from fleetsim.contract import operation
from fleetsim.core.clock import FrozenClock
from fleetsim.core.errors import (
    BadRequest,
    InvalidPageToken,
    InvalidParameter,
    MissingParameter,
    SimRegistrationParameterMissing,
)
from fleetsim.core.iccid import is_valid_iccid, luhn_check_digit, new_iccid, new_registration_code
from fleetsim.core.paging import Cursor
from fleetsim.core.sids import Prefix, SidFactory, is_sid
from fleetsim.http.params import parse_pairs, parse_params


class TestIccid:
    def test_luhn_check_digit_of_a_known_number(self) -> None:
        # 79927398713 is the textbook Luhn example.
        assert luhn_check_digit("7992739871") == "3"

    @pytest.mark.parametrize("length", [19, 20])
    def test_generated_iccids_are_valid(self, length: int) -> None:
        rng = random.Random(5)
        for _ in range(200):
            iccid = new_iccid(rng, length)
            assert len(iccid) == length
            assert iccid.startswith("89")
            assert is_valid_iccid(iccid)

    def test_a_changed_digit_is_caught(self) -> None:
        iccid = new_iccid(random.Random(1))
        wrong = iccid[:-1] + str((int(iccid[-1]) + 1) % 10)
        assert not is_valid_iccid(wrong)

    @pytest.mark.parametrize("value", ["", "8988", "8988307" + "x" * 13, "8" * 21, "٨" * 20])
    def test_malformed_iccids(self, value: str) -> None:
        assert not is_valid_iccid(value)

    def test_registration_codes_are_ten_unambiguous_characters(self) -> None:
        code = new_registration_code(random.Random(3))
        assert len(code) == 10
        assert code.isalnum()
        assert not set(code) & set("01OI")


class TestSids:
    def test_seeded_factories_repeat(self) -> None:
        first = [SidFactory(7).new(Prefix.SIM) for _ in range(1)]
        again = [SidFactory(7).new(Prefix.SIM) for _ in range(1)]
        assert first == again

    def test_unseeded_sids_begin_with_the_time_they_were_made(self) -> None:
        now = [0x0190_0000_0000]
        sids = SidFactory(milliseconds=lambda: now[0])
        first = sids.new(Prefix.SIM)
        now[0] += 1
        later = [sids.new(Prefix.SIM) for _ in range(50)]
        assert first.startswith("HS019000000000")
        assert {sid[:14] for sid in later} == {"HS019000000001"}
        assert all(first < sid for sid in later)  # made later, sorted later
        assert len(set(later)) == 50  # the rest is random
        assert all(is_sid(sid, Prefix.SIM) for sid in [first, *later])

    def test_a_seed_repeats_its_sids_whatever_the_time(self) -> None:
        now = [1]
        sids = SidFactory(7, milliseconds=lambda: now[0])
        first = sids.new(Prefix.SIM)
        now[0] = 2**60
        sids.reseed(7)
        assert sids.new(Prefix.SIM) == first

    def test_the_wall_clock_sorts_sids_by_when_they_were_made(self) -> None:
        made = [SidFactory().new(Prefix.FLEET) for _ in range(3)]
        # Milliseconds since 1970: 12 hex digits from 1970 to the year 10889.
        milliseconds = [int(sid[2:14], 16) for sid in made]
        assert milliseconds == sorted(milliseconds)
        assert 1_700_000_000_000 < milliseconds[0] < 4_000_000_000_000

    def test_shape(self) -> None:
        sid = SidFactory().new(Prefix.FLEET)
        assert is_sid(sid, Prefix.FLEET)
        assert not is_sid(sid, Prefix.SIM)
        assert not is_sid(sid + "0", Prefix.FLEET)
        assert not is_sid("HF" + "g" * 32, Prefix.FLEET)


class TestCursor:
    def test_round_trip(self) -> None:
        cursor = Cursor("after", (42,))
        assert Cursor.decode(cursor.encode(), (int,)) == cursor
        assert cursor.encode().startswith("PA")
        assert Cursor("before", (1,)).encode().startswith("PB")

    @pytest.mark.parametrize(
        "token",
        [
            "",
            "PA",
            "XX" + "e30",
            "PA!!!",
            "PA" + "W10",
            "PAWyJhIiwxXQ",
            "PB" + "x" * 600,
            "PAWzEuNV0",
        ],
    )
    def test_garbage_is_21481(self, token: str) -> None:
        with pytest.raises(InvalidPageToken) as caught:
            Cursor.decode(token, (int,))
        assert caught.value.code == 21481
        assert caught.value.status == 400


class TestFrozenClock:
    def test_moves_only_forward_when_told(self) -> None:
        start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        clock = FrozenClock(start)
        assert clock.now() == start
        assert clock.advance(dt.timedelta(seconds=5)) == start + dt.timedelta(seconds=5)
        with pytest.raises(ValueError, match="backwards"):
            clock.advance(dt.timedelta(seconds=-1))
        with pytest.raises(ValueError, match="backwards"):
            clock.set(start)


class TestParams:
    def test_pairs_decode_plus_and_percent(self) -> None:
        assert parse_pairs(b"UniqueName=a+b%21&x=") == [("UniqueName", "a b!"), ("x", "")]

    def test_invalid_utf8_is_400(self) -> None:
        with pytest.raises(BadRequest, match="UTF-8"):
            parse_pairs(b"UniqueName=%FF")

    def test_types_follow_the_contract(self) -> None:
        params = parse_params(
            operation("CreateFleet"),
            [
                ("NetworkAccessProfile", "HA" + "0" * 32),
                ("DataLimit", "25"),
                ("DataEnabled", "False"),
                ("SmsCommandsMethod", "get"),
                ("Ignored", "x"),
            ],
            location="form",
        )
        assert params == {
            "NetworkAccessProfile": "HA" + "0" * 32,
            "DataLimit": 25,
            "DataEnabled": False,
            "SmsCommandsMethod": "GET",
        }

    def test_missing_required_names_the_parameter(self) -> None:
        with pytest.raises(MissingParameter) as caught:
            parse_params(operation("CreateFleet"), [], location="form")
        assert caught.value.code == 20001
        assert "NetworkAccessProfile" in caught.value.message

    def test_a_resource_can_have_its_own_missing_code(self) -> None:
        with pytest.raises(SimRegistrationParameterMissing) as caught:
            parse_params(
                operation("CreateSim"),
                [("Iccid", "1")],
                location="form",
                on_missing=SimRegistrationParameterMissing,
            )
        assert caught.value.code == 83001
        assert "RegistrationCode" in caught.value.message

    @pytest.mark.parametrize(
        ("pairs", "name"),
        [
            ([("DataLimit", "ten")], "DataLimit"),
            ([("DataLimit", "1e3")], "DataLimit"),
            ([("DataEnabled", "yes")], "DataEnabled"),
            ([("SmsCommandsMethod", "PUT")], "SmsCommandsMethod"),
            ([("SmsCommandsUrl", "ftp://example.com")], "SmsCommandsUrl"),
            ([("SmsCommandsUrl", "not a url")], "SmsCommandsUrl"),
            ([("UniqueName", "a"), ("UniqueName", "b")], "UniqueName"),
            ([("UniqueName", "a\x00b")], "UniqueName"),
            ([("UniqueName", "x" * 5000)], "UniqueName"),
        ],
    )
    def test_bad_values_name_the_parameter(self, pairs: list[tuple[str, str]], name: str) -> None:
        with pytest.raises(InvalidParameter) as caught:
            parse_params(
                operation("CreateFleet"),
                [("NetworkAccessProfile", "n"), *pairs],
                location="form",
            )
        assert caught.value.parameter == name
        assert caught.value.code == 20001

    def test_enums_come_from_the_spec(self) -> None:
        with pytest.raises(InvalidParameter, match="new, ready, active, inactive, scheduled"):
            parse_params(operation("ListSim"), [("Status", "lost")], location="query")

    @pytest.mark.parametrize(
        ("size", "ok"), [("1", True), ("1000", True), ("0", False), ("1001", False)]
    )
    def test_page_size_bounds(self, size: str, ok: bool) -> None:
        if ok:
            assert parse_params(operation("ListSim"), [("PageSize", size)], location="query")
        else:
            with pytest.raises(InvalidParameter, match="PageSize"):
                parse_params(operation("ListSim"), [("PageSize", size)], location="query")

    def test_arrays_keep_every_value(self) -> None:
        params = parse_params(
            operation("CreateNetworkAccessProfile"),
            [("Networks", "a"), ("Networks", "b")],
            location="form",
        )
        assert params["Networks"] == ["a", "b"]
