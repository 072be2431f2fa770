"""The auth matrix: every route of the app x every kind of caller -> the expected status,
and never another account's data in a body.

The routes come from the app's own route table, and each must have an entry in `ROUTES`
below: a route added without one fails `test_every_route_has_an_expected_outcome`.
Account A (the `api` fixture's) owns a Network Access Profile, a Fleet, an attached Sim,
an SMS and an IP Command and API keys; every `{Sid}` in a path names one of them. B is
another account, S a subaccount of A; both own objects too. The callers:

    no credentials, a wrong token, a malformed Authorization header, a revoked API key
        -> 401 (20003) everywhere (the control API included)
    B's valid credentials, S's valid credentials
        -> 404 (20404 or the resource's own code) on A's objects; on collections, their
           own data (201 for creates)
    A's API key
        -> what A gets, except in the Accounts API, closed to keys (403)

The same callers with Bearer tokens (KORE's dialect): a malformed token, an expired one,
a revoked client's -> 401 (20003) everywhere; B's and S's tokens -> what B and S get; A's
token -> what A's API key gets. The APIs that keep their own authentication (the Accounts
API, the device API, the simulated SM-DP+) refuse every Bearer token (401). KORE's client
API refuses API keys (403) as the Accounts API does; KORE's token endpoint reads its
credentials from the body (here none: 400, whoever calls).

The control API answers 401 to every one of them (it takes the operator's credential
only); /, /health, /metrics, /v1/ping and the OpenAPI document 200. Console routes (under
/console) need
no entry: they take a session cookie, never Basic credentials, so each must answer every
caller here with the sign-in form or a redirect to it (`CONSOLE_PUBLIC` lists the exceptions).
The number of cases is printed (`-s`) and asserted.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.routing import Mount, Route

from tests.api.conftest import Api, Credentials
from tests.api.network_fixtures import attach, connectable_sim

COLUMNS = (
    "no credentials",
    "wrong token",
    "malformed header",
    "revoked API key",
    "bearer: malformed",
    "bearer: expired",
    "bearer: revoked client",
    "another account",
    "subaccount",
    "bearer: another account",
    "bearer: subaccount",
    "bearer: A",
    "API key",
)
UNAUTHENTICATED = COLUMNS[:7]
OUTSIDERS = ("another account", "subaccount")
# A Bearer column gets what the Basic column of the same caller gets, where Bearer is taken.
AS_BASIC = {
    "bearer: another account": "another account",
    "bearer: subaccount": "subaccount",
    "bearer: A": "API key",
}


@dataclass
class World:
    """Who is who, and what A owns (names used in the paths below)."""

    a: Credentials
    b: Credentials
    sub: Credentials
    key: Credentials
    revoked: Credentials
    tokens: dict[str, str]
    names: dict[str, str]
    cards: list[tuple[str, str]]
    # Strings that must never reach a caller who is not A (A's SIDs, ICCID, secrets) ...
    a_only: set[str] = field(default_factory=set)
    # ... and that A's own callers must never see (B's and S's).
    others_only: set[str] = field(default_factory=set)


Body = Callable[[World], dict[str, str]]


@dataclass(frozen=True)
class Spec:
    path: str  # `{name}`s filled from World.names
    ok: int  # what A's API key gets
    body: Body | None = None
    owned: bool = True  # the path names A's objects: outsiders get 404
    outsider: int | None = None  # what outsiders get instead (collections, creates)
    sub: int | None = None  # what the subaccount gets, when unlike another account
    # api | accounts (no API keys, no Bearer) | kore (KORE's management APIs) | kore-clients
    # (no API keys) | token | control | public | console
    area: str = "api"
    json: dict[str, Any] | None = None  # a JSON body (KORE's management APIs)


def sim_body(world: World) -> dict[str, str]:
    iccid, code = world.cards.pop()
    return {"Iccid": iccid, "RegistrationCode": code}


def fixed(**values: str) -> Body:
    return lambda world: {k: v.format(**world.names) for k, v in values.items()}


ACCOUNT = "/2010-04-01/Accounts"
NAP = "/v1/NetworkAccessProfiles"

ROUTES: dict[str, Spec] = {
    # Networks are a shared catalogue.
    "ListNetwork": Spec("/v1/Networks", 200, owned=False),
    "FetchNetwork": Spec("/v1/Networks/{net}", 200, owned=False),
    "ListNetworkAccessProfile": Spec(NAP, 200, owned=False),
    "CreateNetworkAccessProfile": Spec(NAP, 201, fixed(), owned=False),
    "FetchNetworkAccessProfile": Spec(NAP + "/{nap}", 200),
    "UpdateNetworkAccessProfile": Spec(NAP + "/{nap}", 200, fixed()),
    "ListNetworkAccessProfileNetwork": Spec(NAP + "/{nap}/Networks", 200),
    "CreateNetworkAccessProfileNetwork": Spec(
        NAP + "/{nap}/Networks", 201, fixed(Network="{spare_net}")
    ),
    "FetchNetworkAccessProfileNetwork": Spec(NAP + "/{nap}/Networks/{net}", 200),
    "DeleteNetworkAccessProfileNetwork": Spec(NAP + "/{nap}/Networks/{net}", 204),
    "ListFleet": Spec("/v1/Fleets", 200, owned=False),
    # Naming A's profile: outsiders are told (20001) there is none such in their account.
    "CreateFleet": Spec("/v1/Fleets", 201, fixed(NetworkAccessProfile="{nap}"), outsider=400),
    "FetchFleet": Spec("/v1/Fleets/{fleet}", 200),
    "UpdateFleet": Spec("/v1/Fleets/{fleet}", 200, fixed(DataLimit="1000")),
    "ListSim": Spec("/v1/Sims", 200, owned=False),
    "CreateSim": Spec("/v1/Sims", 201, sim_body, owned=False),
    "FetchSim": Spec("/v1/Sims/{sim}", 200),
    "UpdateSim": Spec("/v1/Sims/{sim}", 200, fixed(UniqueName="renamed")),
    "ListBillingPeriod": Spec("/v1/Sims/{sim}/BillingPeriods", 200),
    "ListSimIpAddress": Spec("/v1/Sims/{sim}/IpAddresses", 200),
    "ListSmsCommand": Spec("/v1/SmsCommands", 200, owned=False),
    "CreateSmsCommand": Spec(
        "/v1/SmsCommands", 201, fixed(Sim="{sim}", Payload="hi"), outsider=404
    ),
    "FetchSmsCommand": Spec("/v1/SmsCommands/{sms}", 200),
    "ListIpCommand": Spec("/v1/IpCommands", 200, owned=False),
    "CreateIpCommand": Spec(
        "/v1/IpCommands", 201, fixed(Sim="{sim}", Payload="hi", DevicePort="5000"), outsider=404
    ),
    "FetchIpCommand": Spec("/v1/IpCommands/{ip}", 200),
    "ListUsageRecord": Spec("/v1/UsageRecords", 200, owned=False),
    "ListEsimProfile": Spec("/v1/ESimProfiles", 200, owned=False),
    "CreateEsimProfile": Spec("/v1/ESimProfiles", 201, fixed(Eid="8" * 32), owned=False),
    "FetchEsimProfile": Spec("/v1/ESimProfiles/{esim}", 200),
    "ListSettingsUpdate": Spec("/v1/SettingsUpdates", 200, owned=False),
    # The simulated SM-DP+ finds the profile by EID in the caller's account.
    "DownloadESimProfile": Spec("/esim/{eid}/download", 200, fixed()),
    # Outsiders have downloaded nothing to that EID in their account: told so (20001).
    "InstallESimProfile": Spec("/esim/{eid}/install", 200, fixed(), outsider=400),
    # The Accounts API: a subaccount may not create subaccounts; B makes its own.
    "CreateAccount": Spec(ACCOUNT + ".json", 201, fixed(), False, 201, 403, "accounts"),
    "ListAccount": Spec(ACCOUNT + ".json", 200, owned=False, area="accounts"),
    "FetchAccount": Spec(ACCOUNT + "/{a}.json", 200, area="accounts"),
    "UpdateAccount": Spec(ACCOUNT + "/{a}.json", 200, fixed(FriendlyName="x"), area="accounts"),
    "CreateNewKey": Spec(ACCOUNT + "/{a}/Keys.json", 201, fixed(), area="accounts"),
    "ListKey": Spec(ACCOUNT + "/{a}/Keys.json", 200, area="accounts"),
    "FetchKey": Spec(ACCOUNT + "/{a}/Keys/{target_key}.json", 200, area="accounts"),
    "UpdateKey": Spec(
        ACCOUNT + "/{a}/Keys/{target_key}.json", 200, fixed(FriendlyName="x"), area="accounts"
    ),
    "DeleteKey": Spec(ACCOUNT + "/{a}/Keys/{target_key}.json", 204, area="accounts"),
    # The device API acts for the Sim's account.
    "FetchDevice": Spec("/devices/{sim}", 200),
    "AttachDevice": Spec("/devices/{sim}/attach", 200, fixed(Network="{spare_net}")),
    "ListDeviceMessages": Spec("/devices/{sim}/inbox", 200),
    "DeleteDeviceMessage": Spec("/devices/{sim}/inbox/{msg}", 204),
    "ListDeviceNetworks": Spec("/devices/{sim}/networks", 200),
    "ListConnectionEvents": Spec("/devices/{sim}/events", 200),
    "UseDeviceData": Spec("/devices/{sim}/data", 200, fixed(Upload="100")),
    "SendDeviceSms": Spec("/devices/{sim}/sms", 201, fixed(To="000", Body="hello")),
    "SendDeviceDatagram": Spec("/devices/{sim}/udp", 201, fixed(SourcePort="7", Text="hi")),
    "BindDeviceUdp": Spec("/devices/{sim}/udp-binding", 200, fixed(Port="9")),
    "UnbindDeviceUdp": Spec("/devices/{sim}/udp-binding", 200),
    "DetachDevice": Spec("/devices/{sim}/detach", 200, fixed()),
    # The control API takes the operator's credential only.
    "control:clock": Spec("/control/clock", 401, area="control"),
    "control:advance": Spec("/control/clock/advance", 401, fixed(Seconds="1"), area="control"),
    "control:reset": Spec("/control/reset", 401, fixed(), area="control"),
    "control:seed": Spec("/control/sids/seed", 401, fixed(Seed="1"), area="control"),
    "control:policies": Spec("/control/policies", 401, area="control"),
    "control:policy": Spec(
        "/control/policies/sim_update", 401, fixed(Policy="manual"), area="control"
    ),
    "control:progress": Spec(
        "/control/lifecycles/sim_update/{sim}/progress", 401, fixed(), area="control"
    ),
    "control:jobs": Spec("/control/jobs", 401, area="control"),
    "control:webhooks": Spec("/control/webhooks", 401, area="control"),
    "control:webhook": Spec("/control/webhooks/1", 401, area="control"),
    "control:redeliver": Spec("/control/webhooks/1/redeliver", 401, fixed(), area="control"),
    "control:event-sink": Spec(
        "/control/accounts/{a}/event-sink", 401, fixed(Url="http://x.test/"), area="control"
    ),
    "control:esim-stock": Spec("/control/esim/stock", 401, area="control"),
    "control:esim-failure": Spec(
        "/control/esim/profiles/{esim}/failure", 401, fixed(Code="x"), area="control"
    ),
    "control:settings-updates": Spec(
        "/control/settings-updates", 401, fixed(Sim="{sim}"), area="control"
    ),
    # KORE's token endpoint takes client credentials in its form: none here.
    "kore:token": Spec("/api-services/v1/auth/token", 400, fixed(), area="token"),
    "kore:create-client": Spec(
        "/v1/clients", 201, None, owned=False, area="kore-clients", json={"name": "matrix"}
    ),
    "kore:list-clients": Spec("/v1/clients", 200, owned=False, area="kore-clients"),
    "kore:get-client": Spec("/v1/clients/{client}", 200, area="kore-clients"),
    "kore:delete-client": Spec("/v1/clients/{client}", 204, area="kore-clients"),
    "kore:ping": Spec("/v1/ping", 200, owned=False, area="public"),
    "kore:create-secret": Spec(
        "/v1/secrets", 201, None, owned=False, area="kore", json={"Name": "m"}
    ),
    "kore:list-secrets": Spec("/v1/secrets", 200, owned=False, area="kore"),
    "kore:fetch-secret": Spec("/v1/secrets/{secret}", 200, area="kore"),
    "kore:update-secret": Spec("/v1/secrets/{secret}", 200, area="kore", json={"Name": "x"}),
    "control:api-clients": Spec(
        "/control/accounts/{a}/api-clients", 401, fixed(Lifetime="1h"), area="control"
    ),
    "control:api-client": Spec("/control/accounts/{a}/api-clients/{client}", 401, area="control"),
    # Public: what the server is and how it is doing, nothing of any account.
    "health": Spec("/health", 200, owned=False, area="public"),
    "home": Spec("/", 200, owned=False, area="public"),
    "metrics": Spec("/metrics", 200, owned=False, area="public"),
    "openapi": Spec("/openapi.json", 200, owned=False, area="public"),
    "coverage": Spec("/openapi/coverage", 200, owned=False, area="public"),
}

# The console signs in with a form and keeps a signed cookie: Basic credentials, right or
# wrong, sign no one in. Every console route answers these callers as a visitor without a
# session: the sign-in form, or a redirect to it (tests/api/test_console.py covers sessions,
# CSRF and one account never seeing another's objects).
CONSOLE_PREFIX = "/console"
CONSOLE_PUBLIC: dict[tuple[str, str], int] = {
    ("console_sign_in_form", "GET"): 200,
    ("console_sign_in", "POST"): 401,  # no username or password in the form
    ("console_static", "GET"): 200,
    ("console_not_found", "GET"): 404,
    ("console_not_found", "POST"): 404,
}


def route_methods(api: Api) -> list[tuple[str, str, str]]:
    """(name, method, path template) of every route of the app, in the order of `ROUTES`
    (so the device detaches last); routes missing from it last of all."""
    found = []
    for route in api.client.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, Mount):  # the console's static files
            found.append((route.name, "GET", route.path + "/console.css"))
            continue
        assert isinstance(route, Route)
        for method in sorted((route.methods or set()) - {"HEAD"}):
            found.append((route.name, method, route.path))
    order = list(ROUTES)
    return sorted(found, key=lambda r: order.index(r[0]) if r[0] in order else len(order))


def is_console(path: str) -> bool:
    return path == CONSOLE_PREFIX or path.startswith(CONSOLE_PREFIX + "/")


def test_every_route_has_an_expected_outcome(api: Api) -> None:
    routes = route_methods(api)
    names = {name for name, _, path in routes if not is_console(path)}
    assert names - set(ROUTES) == set(), "routes without an entry in the auth matrix"
    assert set(ROUTES) - names == set(), "entries for routes that no longer exist"
    console = {(name, method) for name, method, path in routes if is_console(path)}
    assert set(CONSOLE_PUBLIC) - console == set(), "console entries for routes that are gone"


def takes_bearer(spec: Spec) -> bool:
    """Whether Bearer tokens are taken: the Super SIM API and KORE's own APIs."""
    own_auth = spec.path.startswith(("/devices/", "/esim/"))
    return spec.area in ("api", "kore", "kore-clients") and not own_auth


def expected(spec: Spec, column: str) -> int:
    if spec.area == "public":
        return 200
    if spec.area in ("console", "token"):
        return spec.ok
    if spec.area == "control" or column in UNAUTHENTICATED:
        return 401
    if column.startswith("bearer") and not takes_bearer(spec):
        return 401
    if column == "bearer: A":
        return spec.ok
    column = AS_BASIC.get(column, column)
    if column == "API key":
        return 403 if spec.area in ("accounts", "kore-clients") else spec.ok
    if column == "subaccount" and spec.sub is not None:
        return spec.sub
    if spec.outsider is not None:
        return spec.outsider
    return 404 if spec.owned else spec.ok


def seed(api: Api) -> World:
    """A's objects (and B's and S's, so their lists are not empty)."""
    sim = connectable_sim(api, networks=2)
    attach(api, sim.sid, sim.network_sids[0])
    sms = api.post("/v1/SmsCommands", {"Sim": sim.sid, "Payload": "seed"}).json()
    ip = api.post("/v1/IpCommands", {"Sim": sim.sid, "Payload": "x", "DevicePort": "1"}).json()
    eid = "89049032" + "0" * 23 + "1"
    esim = api.post("/v1/ESimProfiles", {"Eid": eid}).json()
    # A token of a 1-hour client, which expires as the clock moves on.
    expiring = bearer_token(api, api.creds, "1h")
    # Until the eSIM Profile is `available`, and the 1-hour token has expired.
    api.control("POST", "/control/clock/advance", {"Seconds": "3601"})
    esim = api.get(f"/v1/ESimProfiles/{esim['sid']}").json()
    assert esim["status"] == "available", esim
    message = api.get(f"/devices/{sim.sid}/inbox").json()["messages"][0]
    # The Sim's profile keeps one network for Create...Network to add again.
    removed = api.delete(f"{NAP}/{sim.profile_sid}/Networks/{sim.network_sids[1]}")
    assert removed.status_code == 204, removed.text
    key, target, revoked = api.new_api_key(), api.new_api_key(), api.new_api_key()
    gone = api.delete(f"{ACCOUNT}/{api.creds.account_sid}/Keys/{revoked.username}.json")
    assert gone.status_code == 204, gone.text
    sub_body = api.post(ACCOUNT + ".json", {"FriendlyName": "sub"}).json()
    sub = Credentials(sub_body["sid"], sub_body["auth_token"], sub_body["sid"])
    b = api.new_account()
    others: set[str] = {b.account_sid, b.password, sub.password}
    target_client = new_api_client(api, api.creds, "24mo")
    revoked_client = new_api_client(api, api.creds, "24mo")
    revoked_token = fetch_token(api, revoked_client)
    gone = api.control(
        "DELETE",
        f"/control/accounts/{api.creds.account_sid}/api-clients/" + revoked_client["client_id"],
    )
    assert gone.status_code == 200, gone.text
    secret = api.client.post(
        "/v1/secrets", json={"Name": "a"}, auth=(api.creds.username, api.creds.password)
    ).json()
    tokens = {
        "bearer: malformed": "not*a*token",
        "bearer: expired": expiring,
        "bearer: revoked client": revoked_token,
        "bearer: another account": bearer_token(api, b, "24h"),
        "bearer: subaccount": bearer_token(api, sub, "24h"),
        "bearer: A": bearer_token(api, api.creds, "30d"),
    }
    others |= {tokens["bearer: another account"], tokens["bearer: subaccount"]}
    for owner in (b, sub):
        made = api.post(NAP, {"UniqueName": "theirs"}, as_=owner).json()
        others.add(made["sid"])
    cards = [(c.iccid, c.registration_code) for c in api.cards(len(COLUMNS) + 1)]
    names = {
        "a": api.creds.account_sid,
        "nap": sim.profile_sid,
        "net": sim.network_sids[0],
        "spare_net": sim.network_sids[1],
        "fleet": sim.fleet_sid,
        "sim": sim.sid,
        "sms": sms["sid"],
        "ip": ip["sid"],
        "target_key": target.username,
        "esim": esim["sid"],
        "eid": eid,
        "client": target_client["client_id"],
        "secret": secret["id"],
        "msg": str(message["index"]),
    }
    a_only = {api.creds.password, key.password, target.password, sim.iccid, sms["sid"]}
    a_only |= {ip["sid"], sim.sid, sim.fleet_sid, sim.profile_sid, target.username}
    a_only |= {key.username, revoked.username, esim["sid"], esim["sim_sid"], esim["iccid"]}
    a_only |= {target_client["client_id"], target_client["client_secret"], secret["id"]}
    a_only |= {secret["secret"], revoked_client["client_secret"], tokens["bearer: A"]}
    return World(api.creds, b, sub, key, revoked, tokens, names, cards, a_only, others)


def restore_profile(api: Api, world: World) -> None:
    """Undo what A's writes did to its profile's networks, for the next of A's callers."""
    profile = NAP + "/" + world.names["nap"] + "/Networks"
    removed = api.delete(profile + "/" + world.names["spare_net"])
    assert removed.status_code == 204, removed.text
    added = api.post(profile, {"Network": world.names["net"]})
    assert added.status_code == 201, added.text


def new_api_client(api: Api, owner: Credentials, lifetime: str) -> dict[str, Any]:
    path = f"/control/accounts/{owner.account_sid}/api-clients"
    response = api.control("POST", path, {"Lifetime": lifetime})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def fetch_token(api: Api, client: dict[str, Any]) -> str:
    form = {"grant_type": "client_credentials", **client}
    response = api.client.post("/api-services/v1/auth/token", data=form)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def bearer_token(api: Api, owner: Credentials, lifetime: str) -> str:
    """An access token of a new API client of `owner`."""
    client = new_api_client(api, owner, lifetime)
    return fetch_token(api, {k: client[k] for k in ("client_id", "client_secret")})


def call(
    api: Api, world: World, column: str, method: str, path: str, data: Any, body: Any = None
) -> Any:
    auth: Any = None
    headers = {}
    if column in world.tokens:
        headers = {"Authorization": f"Bearer {world.tokens[column]}"}
    elif column == "wrong token":
        auth = (world.a.username, "f" * 32)
    elif column == "malformed header":
        headers = {"Authorization": "Basic not*base64"}
    elif column != "no credentials":
        creds = {
            "revoked API key": world.revoked,
            "another account": world.b,
            "subaccount": world.sub,
            "API key": world.key,
        }[column]
        auth = (creds.username, creds.password)
    return api.request(
        method, path, data=data, json=body, auth=auth, headers=headers, follow_redirects=False
    )


def test_auth_matrix(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    world = seed(api)
    routes = route_methods(api)
    failures: list[str] = []
    cases = 0
    for column in COLUMNS:  # A's API key last: its writes change A's objects
        for name, method, template in routes:
            if is_console(template):
                # Any object will do: without a session nothing is looked up.
                path = re.sub(r"\{[^}]+\}", world.names["sim"], template)
                spec = Spec(path, CONSOLE_PUBLIC.get((name, method), 303), area="console")
                data = None
            else:
                spec = ROUTES[name]
                path = spec.path.format(**world.names)
                data = spec.body(world) if spec.body else None
            body = None if is_console(template) else ROUTES[name].json
            response = call(api, world, column, method, path, data, body)
            cases += 1
            want = expected(spec, column)
            where = f"{column}: {method} {path} {data or ''}"
            if response.status_code != want:
                got = f"{response.status_code} {response.text[:200]}"
                failures.append(f"{where} -> {got}, expected {want}")
                continue
            if spec.area == "console":
                if want == 303 and not response.headers["location"].startswith("/console/sign-in"):
                    failures.append(f"{where}: redirected to {response.headers['location']}")
            elif spec.area == "token":
                if response.json().get("error") != "invalid_request":
                    failures.append(f"{where}: not OAuth's error body: {response.text[:200]}")
            elif want >= 400:
                answer = response.json()
                if answer.get("status") != want or not isinstance(answer.get("code"), int):
                    failures.append(f"{where}: not a Twilio error body: {answer}")
                if want == 401 and answer["code"] != 20003:
                    failures.append(f"{where}: code {answer['code']}, expected 20003")
                if spec.area in ("kore", "kore-clients"):  # KORE's `ApiErrorResponse`
                    if "docs.korewireless.com" not in answer.get("info", ""):
                        failures.append(f"{where}: not KORE's management error body: {answer}")
                else:
                    more_info = "docs.korewireless.com" if column in world.tokens else "twilio.com"
                    if more_info not in answer["more_info"]:
                        failures.append(f"{where}: more_info {answer['more_info']}")
            # Nobody sees another's data; what the caller sent may be echoed (a 404 names
            # the path it was asked for).
            sent = path + json.dumps(data or {}) + json.dumps(body or {})
            caller = AS_BASIC.get(column, column)
            secret = world.others_only if caller == "API key" else set(world.a_only)
            if caller == "subaccount":
                secret = secret - {world.a.account_sid}  # its owner_account_sid
            leaked = sorted(s for s in secret if s in response.text and s not in sent)
            if leaked:
                failures.append(f"{where}: leaked {leaked}: {response.text[:300]}")
        if column == "bearer: A":
            restore_profile(api, world)
    print(f"\nauth matrix: {len(routes)} operations x {len(COLUMNS)} callers = {cases} cases")
    assert cases == len(routes) * len(COLUMNS)
    assert failures == [], "\n".join(failures)
    secrets = [world.a.password, world.b.password, world.sub.password, world.key.password]
    secrets.append(world.revoked.password)
    secrets += list(world.tokens.values())[1:]
    assert [s for s in secrets if s in caplog.text] == [], "secrets in the log"
