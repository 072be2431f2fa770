"""The wrk scripts of bench/api.py: one Lua `request` function for each kind of write,
each request different where the rules need it (a new unique name, a new card, a new Sim).

Every request authenticates as the benchmark's account (`AUTH`).
"""

from __future__ import annotations

import base64
from pathlib import Path

from harness import lua_string, request_script

ACCOUNT = "AC" + "be" * 16
TOKEN = "ca" * 16
AUTH = "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()


def create_fleet_script(profile: str, tag: str) -> str:
    """Each request a Fleet with a new unique name (per wrk thread and request)."""
    return numbered_script(f"NetworkAccessProfile={profile}&UniqueName={tag}-")


def numbered_script(body: str) -> str:
    """Each request POSTs `body` followed by a number new to the run (per wrk thread and
    request): for unique names and changing values."""
    extra = f"""
counter = 0
function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, {lua_string(body)} .. (tid or 0) .. "-" .. counter)
end
"""
    return request_script(method="POST", auth=AUTH, extra=extra) + _THREAD_IDS


def sms_script(sims: list[str]) -> str:
    """Each request an SMS Command to the next of the active Sims."""
    return cycling_script([f"Sim={sid}&Payload=bench" for sid in sims])


def ip_script(sims: list[str]) -> str:
    """Each request an IP Command to the next of the active Sims."""
    return cycling_script([f"Sim={sid}&Payload=bench&DevicePort=9000" for sid in sims])


def cycling_script(bodies: list[str]) -> str:
    """Each request POSTs the next of `bodies`, round and round."""
    table = ", ".join(lua_string(body) for body in bodies)
    extra = f"""
bodies = {{{table}}}
counter = 0
function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, bodies[counter % #bodies + 1])
end
"""
    return request_script(method="POST", auth=AUTH, extra=extra)


def register_script(cards_file: Path, start: int) -> str:
    """Each request registers the next card of the file (a new one each time)."""
    extra = f"""
bodies = {{}}
for line in io.lines({lua_string(str(cards_file))}) do bodies[#bodies + 1] = line end
counter = {start}
function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, bodies[counter % #bodies + 1])
end
"""
    return request_script(method="POST", auth=AUTH, extra=extra)


def update_script(sids_file: Path, start: int) -> str:
    """Each request puts the next Sim of the file (a `new` one each time) in the Fleet and
    makes it ready: a write, and a job for the scheduled status change."""
    extra = f"""
sids = {{}}
for line in io.lines({lua_string(str(sids_file))}) do sids[#sids + 1] = line end
counter = {start}
function request()
  counter = counter + 1
  return wrk.format(nil, "/v1/Sims/" .. sids[counter % #sids + 1], nil, "Fleet=bench&Status=ready")
end
"""
    return request_script(method="POST", auth=AUTH, extra=extra)


_THREAD_IDS = """
threads_started = 0
function setup(thread)
  threads_started = threads_started + 1
  thread:set("tid", threads_started)
end
"""
