"""An answer leaves nothing for the garbage collector: no frame of fleetsim's code is
left in a reference cycle. An error kept in a variable of a frame its traceback holds
makes one, and the cycle holds every object of the request until a collection finds it;
under load, those collections stalled the event loop for tens of milliseconds each."""

from __future__ import annotations

import gc
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2 as httpx

import fleetsim
from tests.api.conftest import Api, assert_error

SOURCE = str(Path(fleetsim.__file__).parent)
UNKNOWN_PROFILE = "HA" + "0" * 32


@contextmanager
def frames_left_in_cycles(source: str = SOURCE) -> Iterator[list[str]]:
    """The functions of `source` (a folder or file) whose frames the block left in
    reference cycles."""
    found: list[str] = []
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what a collection finds unreachable goes to gc.garbage
    try:
        yield found
        gc.collect()
        found.extend(
            f"{o.f_code.co_name} ({o.f_code.co_filename})"
            for o in gc.garbage
            if isinstance(o, types.FrameType) and o.f_code.co_filename.startswith(source)
        )
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def _cases(api: Api) -> dict[str, Callable[[], httpx.Response]]:
    network = api.network_sids(1)[0]
    profile = api.post("/v1/NetworkAccessProfiles", data={"Networks": network}).json()["sid"]
    api.post("/v1/Fleets", data={"NetworkAccessProfile": profile, "UniqueName": "taken"})
    return {
        "a read's 404": lambda: api.get("/v1/Sims/HS" + "0" * 32),
        "a refused parameter's 400": lambda: api.post("/v1/Fleets"),
        "a write's 400": lambda: api.post(
            "/v1/Fleets", data={"NetworkAccessProfile": UNKNOWN_PROFILE}
        ),
        "a write's 409": lambda: api.post(
            "/v1/Fleets", data={"NetworkAccessProfile": profile, "UniqueName": "taken"}
        ),
        "a created Fleet": lambda: api.post("/v1/Fleets", data={"NetworkAccessProfile": profile}),
        "a page": lambda: api.get("/v1/Networks", params={"PageSize": 2}),
    }


EXPECTED = {
    "a read's 404": (404, 20404),
    "a refused parameter's 400": (400, 20001),
    "a write's 400": (400, 20001),
    "a write's 409": (409, 20409),
}


def test_no_answer_leaves_a_frame_of_fleetsim_in_a_cycle(api: Api) -> None:
    for name, request in _cases(api).items():
        request()  # first use: caches and compiled statements are made, not garbage
        with frames_left_in_cycles() as frames:
            for _ in range(3):
                response = request()
        if name in EXPECTED:
            assert_error(response, *EXPECTED[name])
        else:
            assert response.status_code in (200, 201), response.text
        assert frames == [], f"{name}: {frames}"


def test_the_check_finds_a_frame_kept_in_a_cycle() -> None:
    """The check above can fail: an error kept by the frame it was caught in."""

    def keep_an_error() -> None:
        try:
            raise ValueError("kept")
        except ValueError as error:
            kept = error  # noqa: F841 - the frame now holds its own traceback's error

    with frames_left_in_cycles(__file__) as frames:
        keep_an_error()
    assert [f.split(" ")[0] for f in frames] == ["keep_an_error"]
