"""Hostile input over the operations of the route table, on both backends: malformed form
bodies, repeated and unknown parameters, oversized bodies (413), invalid UTF-8, NUL bytes,
very long strings, SQL and path injection, SIDs of the wrong prefix or length or of another
account, huge PageSize, negative Page, forged PageTokens (some carrying another account's
SIDs).

Every input answers a Twilio-style 4xx (status, code, message, more_info) and changes
nothing: every table's rows are hashed before and after. The inputs are generated from the
route table and each operation's declared parameters, so a new operation is covered by
adding its route. The count is recorded and printed in the terminal summary.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from sqlalchemy import Engine, func, select
from starlette.routing import Route

from fleetsim.contract import Operation, operations
from fleetsim.db.tables import Base
from fleetsim.db.uow import unit_of_work
from fleetsim.http.endpoint import operation_of
from fleetsim.http.params import MAX_VALUE_LENGTH
from fleetsim.resources.accounts.operator import OPERATOR
from tests.api.conftest import OPERATOR_TOKEN, Api
from tests.api.network_fixtures import advance, attach, connectable_sim
from tests.api.sim_helpers import FORGED_TOKENS, new_fleet, register, token

LIMIT = 64 * 1024  # Runtime.max_body_bytes: the documented request body limit
ERROR_STATUSES = {400, 404, 405, 409, 413, 415}
EID = "89049032005008882600033489000001"
OTHER_EID = "89049032005008882600033489000002"
SQL = ["' OR '1'='1", "1; DROP TABLE sims; --", '" OR 1=1 --', "') UNION SELECT * FROM accounts --"]
PATHS = ["../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "%2e%2e%2f", "/etc/passwd%00"]


@dataclass(frozen=True)
class Hostile:
    """One request and why it is hostile."""

    why: str
    method: str
    path: str
    query: bytes = b""
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()
    # A list filter naming an object the account does not have may match nothing: 200 and
    # an empty page instead of a 4xx (Twilio's answer is unconfirmed; UsageRecords refuses).
    empty_page_of: str | None = None


def snapshot(engine: Engine) -> dict[str, tuple[int, str]]:
    """Every table's row count and a hash of its rows, in primary-key order."""
    state = {}
    with unit_of_work(engine, write=False) as session:
        for table in Base.metadata.sorted_tables:
            count = session.execute(select(func.count()).select_from(table)).scalar_one()
            rows = session.execute(select(table).order_by(*table.primary_key.columns)).all()
            digest = hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()
            state[table.name] = (count, digest)
    return state


@dataclass(frozen=True)
class World:
    """Real objects of the test account and of another account."""

    refs: dict[str, str]  # path parameter / referencing parameter -> a real value
    foreign: dict[str, str]  # the same, of another account


def build_world(api: Api) -> World:
    sim = connectable_sim(api, networks=2)
    attach(api, sim.sid, sim.network_sids[0])
    (card,) = api.cards(1)
    new_sim = register(api, card)["sid"]
    sms = api.post("/v1/SmsCommands", data={"Sim": sim.sid, "Payload": "hi"})
    assert sms.status_code == 201, sms.text
    ip = api.post("/v1/IpCommands", data={"Sim": sim.sid, "Payload": "hi", "DevicePort": "9"})
    assert ip.status_code == 201, ip.text
    profile = api.post("/v1/ESimProfiles", data={"Eid": EID})
    assert profile.status_code == 201, profile.text
    key = api.new_api_key()
    other = api.new_account()
    other_fleet = new_fleet(api, "theirs", as_=other)
    other_profile = api.post("/v1/ESimProfiles", data={"Eid": OTHER_EID}, as_=other)
    assert other_profile.status_code == 201, other_profile.text
    advance(api, 10)  # the eSIM Profiles become available (their Sims made)
    (other_card,) = api.cards(1)
    other_sim = register(api, other_card, as_=other)["sid"]
    other_nap = api.get(f"/v1/Fleets/{other_fleet}", as_=other).json()["network_access_profile_sid"]
    inbox = api.get(f"/devices/{sim.sid}/inbox").json()["messages"]
    return World(
        refs={
            "Sim": sim.sid,
            "SimSid": sim.sid,
            "Fleet": sim.fleet_sid,
            "NetworkAccessProfile": sim.profile_sid,
            "NetworkAccessProfileSid": sim.profile_sid,
            "Network": sim.network_sids[0],
            "Sms": sms.json()["sid"],
            "Ip": ip.json()["sid"],
            "NewSim": new_sim,
            "ESimProfile": profile.json()["sid"],
            "Profile": profile.json()["sid"],
            "Eid": EID,
            "Account": api.creds.account_sid,
            "AccountSid": api.creds.account_sid,
            "Key": key.username,
            "Index": str(inbox[0]["index"]),  # a message in the device's inbox
        },
        foreign={
            "Sim": other_sim,
            "SimSid": other_sim,
            "Fleet": other_fleet,
            "NetworkAccessProfile": other_nap,
            "NetworkAccessProfileSid": other_nap,
            "Eid": OTHER_EID,
            "Profile": other_profile.json()["sid"],
            "AccountSid": other.account_sid,
        },
    )


def served_operations(api: Api) -> list[tuple[Operation, str]]:
    """(operation, method) of every account-authenticated route the app serves."""
    found = []
    for route in api.client.app.routes:  # type: ignore[attr-defined]
        op = operation_of(route.endpoint) if isinstance(route, Route) else None
        if op is not None:
            found.append((op, op.method))
    assert len(found) >= len(operations()) - 4
    return found


def control_inputs(api: Api, world: World) -> list[Hostile]:
    """Hostile requests to every control route (with the operator credential): bad path
    values, malformed or NUL-holding parameters, repeated parameters, bodies too big."""
    found = []
    plausible = {
        "Lifecycle": "sim",
        "Sid": world.refs["Sim"],
        "Id": "1",
        "AccountSid": api.creds.account_sid,
        "ClientId": "apiclient_" + "0" * 26,
    }
    for route in api.client.app.routes:  # type: ignore[attr-defined]
        if not (isinstance(route, Route) and route.path.startswith("/control/")):
            continue
        names = re.findall(r"{(\w+)}", route.path)
        values = {name: plausible[name] for name in names}
        if route.path.startswith("/control/esim/profiles/"):
            values["Sid"] = world.refs["ESimProfile"]
        for method in sorted((route.methods or set()) - {"HEAD"}):
            for name in names:
                for bad in ["%00", SQL[0].replace(" ", "%20"), PATHS[1], "A" * 5000, "9" * 30]:
                    path = fill(route.path, {**values, name: bad})
                    found.append(Hostile(f"{method} {name}={bad[:20]}", method, path))
            path = fill(route.path, values)
            for raw in [b"%", b"A=%E0%A4", b"X=a%00b", b"A=1&A=2"]:
                if method != "POST":  # a DELETE's body means nothing; its query is read
                    found.append(Hostile(f"query {raw!r}", method, path, query=raw))
                else:
                    found.append(Hostile(f"body {raw!r}", method, path, body=raw))
            if method == "POST":
                found.append(Hostile("too big", method, path, body=b"A=" + b"x" * LIMIT))
    assert len(found) > 50
    return found


# Values no account owns: an EID names a physical eUICC, and any account may reserve an eSIM
# Profile for it (another account's EID is hostile only where the SM-DP+ looks it up).
UNOWNED = {"Eid"}

COLLECTION_REF = {
    "Sims": "Sim",
    "Fleets": "Fleet",
    "NetworkAccessProfiles": "NetworkAccessProfile",
    "Networks": "Network",
    "SmsCommands": "Sms",
    "IpCommands": "Ip",
    "ESimProfiles": "ESimProfile",
    "Accounts": "Account",
    "Keys": "Key",
}


def path_values(op: Operation, world: World) -> dict[str, str]:
    """A real object for each path parameter ({Sid} is one of the collection before it)."""
    values = {}
    segments = op.path.split("/")
    for before, segment in itertools.pairwise(segments):
        # "{Sid}" or, in Twilio's 2010 API, "{Sid}.json"
        for name in re.findall(r"{(\w+)}", segment):
            values[name] = world.refs[COLLECTION_REF[before] if name == "Sid" else name]
    return values


def fill(template: str, values: dict[str, str]) -> str:
    return re.sub(r"{(\w+)}", lambda m: values[m.group(1)], template)


def form(pairs: list[tuple[str, str]]) -> bytes:
    return urlencode(pairs).encode()


def hostile_inputs(op: Operation, world: World) -> Iterator[Hostile]:
    values = path_values(op, world)
    path = fill(op.path, values)
    method = op.method
    # SIDs in the path: wrong prefix, wrong length, injections, another account's.
    for name, sample in values.items():
        for bad in [
            "XX" + sample[2:],
            ("HF" if sample[:2] != "HF" else "HS") + sample[2:],
            sample[:-1],
            sample + "0",
            sample[:2].lower() + sample[2:],
            *(value.replace("/", "%2F").replace(" ", "%20") for value in SQL[:2]),
            *PATHS[1:4:2],
            "A" * 5000,
            "%00",
            "%FF%FE",
            world.foreign.get(name, "HS" + "f" * 32),
        ]:
            if bad == sample:  # e.g. an EID is digits: lower-casing its "prefix" keeps it
                continue
            yield Hostile(f"path {name}={bad[:20]}", method, fill(op.path, {**values, name: bad}))
    declared = [p for p in op.params.values() if p.location != "path"]
    required = [(p.name, _valid(p.name, p.type, world)) for p in declared if p.required]
    location = "form" if method == "POST" else "query"

    def send(why: str, raw: bytes, empty_page_of: str | None = None) -> Hostile:
        if location == "form":
            return Hostile(why, method, path, body=raw)
        return Hostile(why, method, path, query=raw, empty_page_of=empty_page_of)

    # Malformed encodings, whatever the operation declares.
    for raw in [b"Foo=%zz", b"%", b"A=%E0%A4", b"\xff\xfe=1", b"A=\xc3\x28", b"=%ff"]:
        yield send(f"malformed {raw!r}", raw)
    if method == "POST":
        yield Hostile("over the size limit", method, path, body=b"A=" + b"x" * LIMIT)
        yield Hostile(
            "JSON body",
            method,
            path,
            body=b'{"Status": "active"}',
            headers=(("content-type", "application/json"),),
        )
        yield Hostile(
            "multipart body",
            method,
            path,
            body=b"--b\r\n\r\nx\r\n--b--",
            headers=(("content-type", "multipart/form-data; boundary=b"),),
        )
    for param in declared:
        if param.location != location:
            continue
        others = [(n, v) for n, v in required if n != param.name]
        good = _valid(param.name, param.type, world)
        if param.type != "array":
            yield send(
                f"{param.name} twice", form([*others, (param.name, good), (param.name, good)])
            )
        yield send(f"{param.name} with NUL", form([*others, (param.name, good + "\x00")]))
        yield send(
            f"{param.name} very long", form([*others, (param.name, "9" * (MAX_VALUE_LENGTH + 1))])
        )
        if param.type in ("integer", "boolean") or param.enum or param.format:
            for value in [SQL[0], PATHS[0]]:
                yield send(f"{param.name}={value}", form([*others, (param.name, value)]))
        filters = op.list_key if location == "query" else None
        if param.name in world.refs and param.type != "array":
            for value in [SQL[1], "XX" + "0" * 32]:
                pairs = form([*others, (param.name, value)])
                yield send(f"{param.name} ref {value}", pairs, filters)
        if param.name in world.foreign and param.name not in UNOWNED:
            yield send(
                f"{param.name} of another account",
                form([*others, (param.name, world.foreign[param.name])]),
                filters,
            )
    if required:
        yield send("unknown parameters only", form([("Bogus", "1"), ("Sid; DROP", "1")]))
    if op.list_key:
        for name, value in [
            ("PageSize", "0"),
            ("PageSize", "-1"),
            ("PageSize", "1001"),
            ("PageSize", "99999999999999999999999"),
            ("PageSize", "1e3"),
            ("Page", "-1"),
            ("Page", "-99999999999999999999"),
            ("Page", "one"),
            *(("PageToken", forged) for forged in FORGED_TOKENS[::2]),
            *(
                ("PageToken", token(json.dumps([sid]).encode(), prefix))
                for sid in world.foreign.values()
                for prefix in ("PA", "PB")
            ),
        ]:
            yield send(f"{name}={value[:30]}", form([*required, (name, value)]))


def _ascii(raw: bytes) -> str:
    """The query as sent on the wire: bytes outside ASCII percent-encoded as they are (a
    client library would re-encode them as UTF-8 and repair them)."""
    return "".join(chr(b) if b < 128 else f"%{b:02X}" for b in raw)


def _valid(name: str, kind: str, world: World) -> str:
    if name in world.refs:
        return world.refs[name]
    return {"integer": "1", "boolean": "true", "array": world.refs["Network"]}.get(kind, "x")


@pytest.fixture
def world(api: Api) -> World:
    return build_world(api)


def test_hostile_input_answers_a_twilio_4xx_and_changes_nothing(
    api: Api, world: World, record_property: Callable[[str, object], None], database_url: str
) -> None:
    before = snapshot(api.engine)
    tried = 0
    statuses: dict[int, int] = {}
    problems: list[str] = []
    backend = database_url.split(":", 1)[0].split("+")[0]
    # PostgreSQL takes every third input: the value classes that differ between backends
    # (NUL, encodings, lengths) are in every operation's inputs, and it is the slower one.
    stride = 1 if backend == "sqlite" else 3
    account = (api.creds.username, api.creds.password)
    items = [
        (op.id, hostile, account)
        for op, _ in served_operations(api)
        for hostile in list(hostile_inputs(op, world))[::stride]
    ]
    items += [
        (hostile.path, hostile, (OPERATOR, OPERATOR_TOKEN))
        for hostile in control_inputs(api, world)[::stride]
    ]
    for label, hostile, auth in items:
        url = hostile.path + ("?" + _ascii(hostile.query) if hostile.query else "")
        response = api.client.request(
            hostile.method,
            url,
            content=hostile.body,
            headers=dict(hostile.headers) or None,
            auth=auth,
        )
        tried += 1
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        if hostile.empty_page_of:
            problem = _not_empty(hostile.empty_page_of, response.status_code, response.content)
        else:
            problem = _problem(response.status_code, response.content)
        if problem:
            problems.append(f"{label} {hostile.why}: {problem}")
    after = snapshot(api.engine)
    summary = (
        f"hostile input ({backend}): {tried} inputs, "
        f"{sum(n for s, n in statuses.items() if s >= 500)} 5xx, {len(problems)} problems; "
        + ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items()))
    )
    record_property("conformance", summary)
    print(summary)
    assert not problems, "\n".join(problems[:40])
    assert after == before, [t for t in before if before[t] != after[t]]
    assert tried > 1000 // stride


def _not_empty(key: str, status: int, content: bytes) -> str | None:
    """An empty page, or (UsageRecords' choice) a Twilio error."""
    if status == 200 and json.loads(content)[key] == []:
        return None
    return _problem(status, content)


def _problem(status: int, content: bytes) -> str | None:
    if status not in ERROR_STATUSES:
        return f"answered {status}: {content[:200]!r}"
    try:
        body = json.loads(content)
    except ValueError:
        return f"{status} without a JSON body: {content[:200]!r}"
    if not (
        isinstance(body, dict)
        and body.get("status") == status
        and isinstance(body.get("code"), int)
        and isinstance(body.get("message"), str)
        and body["message"]
        and str(body.get("more_info", "")).startswith("https://www.twilio.com/docs/errors/")
    ):
        return f"not a Twilio error body: {body!r}"
    return None


def test_forged_token_with_another_accounts_row_key_shows_only_own_rows(
    api: Api, world: World
) -> None:
    """A token holding a row id is indistinguishable from a genuine one: it may move the
    page, but every query is scoped by account, so the page holds only the caller's Sims."""
    own = {s["sid"] for s in api.get("/v1/Sims").json()["sims"]}
    for key in (0, 1, 2, 3, 10**6):
        for prefix in ("PA", "PB"):
            forged = token(json.dumps([key]).encode(), prefix)
            response = api.get("/v1/Sims", params={"PageToken": forged})
            assert response.status_code == 200, response.text
            assert {s["sid"] for s in response.json()["sims"]} <= own
            assert world.foreign["Sim"] not in response.text


def test_base64_of_basic_credentials_is_not_a_way_in(api: Api) -> None:
    """Hostile Authorization headers answer 401 with Twilio's body."""
    sent = 0
    for header in [
        "Basic",
        "Basic !!!",
        "Basic " + base64.b64encode(b"\xff\xfe:\x00").decode(),
        "Basic " + base64.b64encode(b"' OR '1'='1:x").decode(),
        "Basic " + base64.b64encode(api.creds.username.encode() + b":' OR '1'='1").decode(),
        "Bearer x",
        "Basic " + "A" * 10000,
    ]:
        response = api.client.get("/v1/Sims", headers={"Authorization": header})
        sent += 1
        assert response.status_code == 401, (header, response.text)
        assert response.json()["code"] == 20003
    assert sent == 7


def test_a_nul_in_a_path_answers_404_on_every_backend(api: Api, world: World) -> None:
    """PostgreSQL refuses NUL in a query; the route answers 404 before asking it."""
    for path in ["/v1/Sims/HS%00", f"/devices/{world.refs['Sim'][:5]}%00x", "/v1/Fleets/%00"]:
        response = api.get(path)
        assert response.status_code == 404, response.text
        assert response.json()["code"] == 20404
        assert "%00" in response.json()["message"]
    response = api.control("POST", f"/control/lifecycles/sim/{world.refs['Sim']}%00/progress")
    assert response.status_code == 404, response.text
    response = api.control("GET", "/control/webhooks", params={"AccountSid": "AC%00"})
    assert response.status_code == 200, response.text
    response = api.control("GET", "/control/webhooks", params={"AccountSid": "AC\x00"})
    assert response.status_code == 400, response.text
    assert response.json()["message"] == (
        "Invalid parameter AccountSid: must not contain NUL characters"
    )
