"""CDS Hooks "Trusting CDS Clients": the EHR's signed JWT on /cds-services.

Real keys (RSA 2048, EC P-256 and P-384) are generated here, real JWTs signed with PyJWT, and
the web application checks them against the JWK Sets in a trusted-issuers file. Each refusal
must be a 401 with a JSON reason; a valid token gets the cards of the stored case; livermet's
own API token keeps working.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import pytest
from web_support import Client, make_app

jwt = pytest.importorskip("jwt")
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, rsa  # noqa: E402

BASE = "https://livermet.hospital.example"
EHR = "https://ehr.hospital.example/"
OTHER_EHR = "https://ehr.other-hospital.example/"
CLIENT_ID = "livermet-cds-client"
SERVICE = "livermet-mdt"


@pytest.fixture(scope="module")
def keys():
    """Private keys: the EHR's RSA, EC P-256 and EC P-384 keys, and a stranger's RSA key."""
    return {"rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "ec256": ec.generate_private_key(ec.SECP256R1()),
            "ec384": ec.generate_private_key(ec.SECP384R1()),
            "other_ec": ec.generate_private_key(ec.SECP384R1()),
            "stranger": rsa.generate_private_key(public_exponent=65537, key_size=2048)}


KIDS = {"rsa": "ehr-rsa-2025", "ec256": "ehr-ec256-2025", "ec384": "ehr-ec384-2025"}


def public_jwk(private_key, kid: str, **extra) -> dict:
    if isinstance(private_key, rsa.RSAPrivateKey):
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    else:
        jwk = jwt.algorithms.ECAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "use": "sig", **extra}


def write_issuers(path, keys, **top) -> None:
    """The hospital's trusted-issuers file: the EHR with an inline JWK Set (RSA, P-256, P-384),
    and a second EHR whose JWK Set is in its own file."""
    (path.parent / "other-ehr-jwks.json").write_text(json.dumps(
        {"keys": [public_jwk(keys["other_ec"], "other-1", alg="ES384")]}))
    path.write_text(json.dumps({
        "issuers": [
            {"iss": EHR, "name": "Hospital EHR", "sub": CLIENT_ID, "role": "viewer",
             "jwks": {"keys": [public_jwk(keys[k], kid) for k, kid in KIDS.items()]}},
            {"iss": OTHER_EHR, "jwks_file": "other-ehr-jwks.json", "algorithms": ["ES384"]},
        ], **top}))


def sign(private_key, alg: str, kid: str | None, *, drop=(), headers=None, **claims) -> str:
    now = int(time.time())
    payload = {"iss": EHR, "sub": CLIENT_ID, "aud": f"{BASE}/cds-services/{SERVICE}", "iat": now,
               "exp": now + 300, "jti": str(uuid.uuid4())}
    payload.update(claims)
    for name in drop:
        payload.pop(name, None)
    h = {"typ": "JWT", **({"kid": kid} if kid else {}), **(headers or {})}
    return jwt.encode(payload, private_key, algorithm=alg, headers=h)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def handmade(header: dict, payload: dict, sign_with=None) -> str:
    """A compact JWS built by hand (PyJWT refuses to make the attacks below)."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    sig = b"" if sign_with is None else hmac.new(sign_with, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(sig)}"


def hook(patient_id: str) -> dict:
    return {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/42", "patientId": patient_id}}


@pytest.fixture
def cds(tmp_path, keys, demo_case):
    """An application trusting the EHRs, with the demo case stored; and an EHR with no cookies."""
    issuers = tmp_path / "cds-issuers.json"
    write_issuers(issuers, keys)
    app = make_app(tmp_path / "data", cds_trusted_issuers=issuers, cds_base_url=BASE)
    admin = Client(app, "admin")
    assert admin.post("/api/cases", json={"data": demo_case}).status_code == 201
    yield app, Client(app), admin
    app.state.engine.dispose()


def call(ehr: Client, token: str, patient_id: str, service: str = SERVICE):
    return ehr.http.post(f"/cds-services/{service}", json=hook(patient_id),
                         headers={"Authorization": f"Bearer {token}"})


def expected_sflr_text(case: dict) -> str:
    """The sFLR the recommended card must quote, computed here from the case's volumes:
    remnant / (total liver - tumour), in percent to 0.1 (calculators.md, sFLR)."""
    v = case["volumetry"]
    return f"sFLR {100 * v['remnant_ml'] / (v['total_liver_ml'] - v['tumour_ml']):.1f}%"


@pytest.mark.parametrize("key,alg", [("rsa", "RS384"), ("ec384", "ES384"), ("rsa", "RS256"),
                                     ("ec256", "ES256"), ("rsa", "PS384")])
def test_valid_jwt_gets_the_cards_of_the_stored_case(cds, keys, demo_case, key, alg):
    app, ehr, _admin = cds
    r = call(ehr, sign(keys[key], alg, KIDS[key]), demo_case["id"])
    assert r.status_code == 200, r.text
    cards = r.json()["cards"]
    overview, recommended = cards[0], cards[1]
    assert overview["summary"].startswith("Liver metastases MDT: recommended resection")
    assert overview["indicator"] == "info" and f"case {demo_case['id']}" in overview["detail"]
    assert recommended["summary"].startswith("Recommended: Liver resection")
    # 620 / (1650 - 45) = 38.6 %, above the 20 % minimum for a normal liver (Kishi 2009)
    assert expected_sflr_text(demo_case) == "sFLR 38.6%"
    assert "sFLR 38.6% >= 20% required for a normal liver" in recommended["summary"]
    assert all(c["source"]["label"].startswith("livermet") for c in cards)
    # a patient without a livermet case: no cards (CDS Hooks: an empty array is "no guidance")
    r = call(ehr, sign(keys[key], alg, KIDS[key]), "patient-unknown-123")
    assert r.status_code == 200 and r.json() == {"cards": []}


def test_second_issuer_with_jwks_file(cds, keys, demo_case):
    app, ehr, _ = cds
    token = sign(keys["other_ec"], "ES384", "other-1", iss=OTHER_EHR, sub="anything")
    r = call(ehr, token, demo_case["id"])
    assert r.status_code == 200, r.text
    assert r.json()["cards"][0]["summary"].startswith("Liver metastases MDT")


def _refused(r, *words):
    assert r.status_code == 401, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    detail = r.json()["detail"]
    assert detail.startswith("CDS Hooks JWT refused: "), detail
    for w in words:
        assert w in detail, (w, detail)
    assert "cards" not in r.json()
    return detail


def test_each_bad_token_is_refused_with_a_clear_reason(cds, keys, demo_case):
    app, ehr, _ = cds
    pid = demo_case["id"]
    now = int(time.time())
    rsa_pub_pem = keys["rsa"].public_key().public_bytes(serialization.Encoding.PEM,
                                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    claims = {"iss": EHR, "sub": CLIENT_ID, "aud": f"{BASE}/cds-services/{SERVICE}", "iat": now,
              "exp": now + 300, "jti": str(uuid.uuid4())}
    cases = {
        # signed by a stranger's key, presented under the EHR's key id
        "wrong signature": (sign(keys["stranger"], "RS384", KIDS["rsa"]), ["signature does not verify"]),
        "unknown iss": (sign(keys["rsa"], "RS384", KIDS["rsa"], iss="https://evil.example/"),
                        ["iss='https://evil.example/' is not a trusted CDS client"]),
        "wrong aud (another service's URL)": (
            sign(keys["rsa"], "RS384", KIDS["rsa"], aud="https://other-cds.example/cds-services/livermet-mdt"),
            ["aud=", f"{BASE}/cds-services/{SERVICE}"]),
        "aud of discovery used on the service": (
            sign(keys["ec384"], "ES384", KIDS["ec384"], aud=f"{BASE}/cds-services"), ["is not this endpoint"]),
        "expired": (sign(keys["rsa"], "RS384", KIDS["rsa"], iat=now - 900, exp=now - 600), ["expired"]),
        "missing jti": (sign(keys["ec384"], "ES384", KIDS["ec384"], drop=("jti",)), ["'jti' is missing"]),
        "missing exp": (sign(keys["ec384"], "ES384", KIDS["ec384"], drop=("exp",)), ["'exp' is missing"]),
        "alg none": (handmade({"alg": "none", "typ": "JWT", "kid": KIDS["rsa"]}, claims),
                     ["alg='none' is not accepted"]),
        "HS256 signed with the public key as secret": (
            handmade({"alg": "HS256", "typ": "JWT", "kid": KIDS["rsa"]}, claims, sign_with=rsa_pub_pem),
            ["alg='HS256' is not accepted", "symmetric"]),
        "no kid": (sign(keys["rsa"], "RS384", None), ["kid is missing"]),
        "unknown kid": (sign(keys["rsa"], "RS384", "rotated-away"), ["kid='rotated-away' is not in the JWK Set"]),
        "alg that does not fit the key": (sign(keys["ec256"], "ES256", KIDS["ec384"]), ["does not fit key"]),
        "lives too long": (sign(keys["rsa"], "RS384", KIDS["rsa"], exp=now + 7200), ["lives 7200 s", "3600 s"]),
        "issued in the future": (sign(keys["rsa"], "RS384", KIDS["rsa"], iat=now + 600, exp=now + 900),
                                 ["not valid yet"]),
        "wrong client id (sub)": (sign(keys["rsa"], "RS384", KIDS["rsa"], sub="someone-else"),
                                  ["sub='someone-else' is not a client id"]),
        "not a JWT at all": ("a.b.c", ["not a well-formed JWT"]),
    }
    for name, (token, words) in cases.items():
        _refused(call(ehr, token, pid), *words)
    # the second issuer allows ES384 only: its key cannot be used with another algorithm
    ok = sign(keys["other_ec"], "ES384", "other-1", iss=OTHER_EHR)
    assert call(ehr, ok, pid).status_code == 200


def test_replayed_jti_is_refused(cds, keys, demo_case):
    app, ehr, _ = cds
    jti = str(uuid.uuid4())
    token = sign(keys["ec384"], "ES384", KIDS["ec384"], jti=jti)
    assert call(ehr, token, demo_case["id"]).status_code == 200
    _refused(call(ehr, token, demo_case["id"]), f"jti={jti!r} was already used")
    # a different token re-using the jti is a replay too, even with a valid signature
    _refused(call(ehr, sign(keys["rsa"], "RS384", KIDS["rsa"], jti=jti), demo_case["id"]), "already used")
    # a fresh jti works; another issuer's identical jti is its own
    assert call(ehr, sign(keys["ec384"], "ES384", KIDS["ec384"]), demo_case["id"]).status_code == 200
    other = sign(keys["other_ec"], "ES384", "other-1", iss=OTHER_EHR, jti=jti)
    assert call(ehr, other, demo_case["id"]).status_code == 200
    # a refused (forged) token does not spend the jti of a genuine one
    jti2 = str(uuid.uuid4())
    _refused(call(ehr, sign(keys["stranger"], "RS384", KIDS["rsa"], jti=jti2), demo_case["id"]), "signature")
    assert call(ehr, sign(keys["rsa"], "RS384", KIDS["rsa"], jti=jti2), demo_case["id"]).status_code == 200


def test_discovery_with_the_ehr_jwt(cds, keys):
    app, ehr, _ = cds
    aud = f"{BASE}/cds-services"
    r = ehr.http.get("/cds-services", headers={"Authorization": "Bearer " + sign(keys["rsa"], "RS384",
                                                                                  KIDS["rsa"], aud=aud)})
    assert r.status_code == 200, r.text
    services = r.json()["services"]
    # CDS Hooks discovery: hook, id and description REQUIRED; our one service is patient-view
    assert [(s["hook"], s["id"]) for s in services] == [("patient-view", SERVICE)]
    assert services[0]["description"] and services[0]["prefetch"] == {"patient": "Patient/{{context.patientId}}"}
    # the spec's aud for discovery is {base}/cds-services; a service URL's token is not accepted there
    r = ehr.http.get("/cds-services", headers={"Authorization": "Bearer " + sign(keys["rsa"], "RS384",
                                                                                  KIDS["rsa"])})
    _refused(r, "is not this endpoint", f"'{aud}'")
    # no credentials at all: 401 JSON, as before
    r = ehr.http.get("/cds-services")
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert "detail" in r.json()


def test_livermet_api_token_still_works(cds, demo_case):
    app, ehr, admin = cds
    token = admin.post("/api/tokens", json={"label": "script"}).json()["token"]
    assert token.startswith("lmt_")
    h = {"Authorization": f"Bearer {token}"}
    assert ehr.http.get("/cds-services", headers=h).json()["services"][0]["id"] == SERVICE
    r = ehr.http.post(f"/cds-services/{SERVICE}", json=hook(demo_case["id"]), headers=h)
    assert r.status_code == 200 and "sFLR 38.6%" in r.json()["cards"][1]["summary"]
    # and the same token can be replayed: it is livermet's own long-lived credential, not a CDS JWT
    assert ehr.http.post(f"/cds-services/{SERVICE}", json=hook(demo_case["id"]), headers=h).status_code == 200
    bad = ehr.http.post(f"/cds-services/{SERVICE}", json=hook(demo_case["id"]),
                        headers={"Authorization": "Bearer lmt_not-a-real-token"})
    assert bad.status_code == 401 and "Log in first" in bad.json()["detail"]


def test_bad_requests_are_400_and_404_not_500(cds, keys, demo_case):
    app, ehr, _ = cds
    r = call(ehr, sign(keys["rsa"], "RS384", KIDS["rsa"], aud=f"{BASE}/cds-services/nope"), demo_case["id"],
             service="nope")
    assert r.status_code == 404 and "'nope': unknown" in r.json()["detail"]
    token = sign(keys["rsa"], "RS384", KIDS["rsa"])
    r = ehr.http.post(f"/cds-services/{SERVICE}", json={"hook": "order-sign", "context": {}},
                      headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 400 and "hook: expected 'patient-view'" in r.json()["detail"]
    r = ehr.http.post(f"/cds-services/{SERVICE}", content=b"{not json",
                      headers={"Authorization": "Bearer " + sign(keys["rsa"], "RS384", KIDS["rsa"]),
                               "content-type": "application/json"})
    assert r.status_code == 400 and "not JSON" in r.json()["detail"]


def test_without_base_url_the_audience_is_the_request_url(tmp_path, keys, demo_case):
    issuers = tmp_path / "issuers.json"
    write_issuers(issuers, keys)
    app = make_app(tmp_path / "data", cds_trusted_issuers=issuers)
    try:
        Client(app, "admin").post("/api/cases", json={"data": demo_case})
        ehr = Client(app)
        # the TestClient calls http://testserver
        ok = sign(keys["ec384"], "ES384", KIDS["ec384"], aud=f"http://testserver/cds-services/{SERVICE}")
        assert call(ehr, ok, demo_case["id"]).status_code == 200
        # a list-valued aud (rfc7519) holding the endpoint is accepted too
        ok = sign(keys["ec384"], "ES384", KIDS["ec384"],
                  aud=["https://elsewhere.example/x", f"http://testserver/cds-services/{SERVICE}"])
        assert call(ehr, ok, demo_case["id"]).status_code == 200
        _refused(call(ehr, sign(keys["ec384"], "ES384", KIDS["ec384"]), demo_case["id"]),
                 "'http://testserver/cds-services/livermet-mdt'")
    finally:
        app.state.engine.dispose()


def test_jwt_refused_when_no_issuer_is_configured(app, keys):
    ehr = Client(app)
    r = ehr.http.get("/cds-services", headers={
        "Authorization": "Bearer " + sign(keys["rsa"], "RS384", KIDS["rsa"], aud="http://testserver/cds-services")})
    _refused(r, "trusts no CDS client", "LIVERMET_CDS_TRUSTED_ISSUERS")


# ------------------------------------------------------------------ the trusted-issuers file
def _settings_error(tmp_path, doc, *words, **kw):
    from livermet.web.settings import Settings, SettingsError

    path = tmp_path / "bad-issuers.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    with pytest.raises(SettingsError) as e:
        Settings(data_dir=tmp_path / "d", cds_trusted_issuers=path, **kw).validated()
    for w in words:
        assert w in str(e.value), (w, str(e.value))


def test_bad_trusted_issuers_files_fail_at_start_naming_the_field(tmp_path, keys):
    rsa_jwk = public_jwk(keys["rsa"], "k1")
    ec_jwk = public_jwk(keys["ec384"], "e1")
    private = {**rsa_jwk, "d": b64(b"secret")}
    _settings_error(tmp_path, "{not json", "not valid JSON", "line 1")
    _settings_error(tmp_path, {"issuer": []}, "unknown field(s) ['issuer']")
    _settings_error(tmp_path, {"issuers": [{"iss": EHR}]}, "issuers[0]", "exactly one of jwks")
    _settings_error(tmp_path, {"issuers": [{"iss": EHR, "jwks": {"keys": [private]}}]},
                    "issuers[0].jwks.keys[0]", "private-key fields ['d']")
    _settings_error(tmp_path, {"issuers": [{"iss": EHR, "jwks": {"keys": [rsa_jwk]}, "algorithms": ["HS256"]}]},
                    "issuers[0].algorithms=[\"HS256\"]", "never none or HS*")
    _settings_error(tmp_path, {"issuers": [{"iss": EHR, "jwks": {"keys": [{"kty": "oct", "kid": "s", "k": "c2VjcmV0"}]}}]},
                    "kty='oct'", "asymmetric")
    _settings_error(tmp_path, {"issuers": [{"iss": EHR, "jwks": {"keys": [{**ec_jwk, "alg": "RS384"}]}}]},
                    "alg='RS384': does not fit a EC key on P-384", "ES384")
    _settings_error(tmp_path, {"issuers": [{"iss": EHR, "jwks": {"keys": [rsa_jwk, rsa_jwk]}}]},
                    "kid='k1' appears twice")
    _settings_error(tmp_path, {"issuers": [{"iss": EHR, "jwks": {"keys": [rsa_jwk]}},
                                           {"iss": EHR, "jwks": {"keys": [ec_jwk]}}]}, "listed twice")
    _settings_error(tmp_path, {"issuers": [{"iss": EHR, "jwks_file": "missing.json"}]},
                    "missing.json", "cannot be read")
    _settings_error(tmp_path, {"issuers": [{"iss": EHR, "jwks": {"keys": [rsa_jwk]}, "role": "read"}]},
                    "role='read'", "viewer")
    _settings_error(tmp_path, {"issuers": [], "max_lifetime_seconds": 0}, "max_lifetime_seconds=0")
    _settings_error(tmp_path, {"issuers": [{"iss": EHR, "jwks": {"keys": [{**rsa_jwk, "n": "AAAA"}]}}]},
                    "kid 'k1'", "not a usable RSA public key")
    small = public_jwk(rsa.generate_private_key(public_exponent=65537, key_size=1024), "small")
    _settings_error(tmp_path, {"issuers": [{"iss": EHR, "jwks": {"keys": [small]}}]},
                    "RSA key of 1024 bits", "at least 2048")
    # production: the public base URL must be set (the aud is never taken from the Host header)
    _settings_error(tmp_path, {"issuers": [{"iss": EHR, "jwks": {"keys": [rsa_jwk]}}]},
                    "LIVERMET_CDS_BASE_URL is missing", production=True, secret_key="x" * 40)


def test_settings_read_the_environment(tmp_path, keys, monkeypatch):
    from livermet.web.settings import Settings, SettingsError

    path = tmp_path / "issuers.json"
    write_issuers(path, keys)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LIVERMET_CDS_TRUSTED_ISSUERS", "issuers.json")
    monkeypatch.setenv("LIVERMET_CDS_BASE_URL", BASE)
    s = Settings.from_env(data_dir=tmp_path / "d")
    assert s.cds_trusted_issuers == path.resolve() and s.cds_base_url == BASE
    monkeypatch.setenv("LIVERMET_CDS_BASE_URL", f"{BASE}/cds-services")
    with pytest.raises(SettingsError, match="without /cds-services"):
        Settings.from_env(data_dir=tmp_path / "d")


def test_a_file_broken_after_the_start_gives_503_not_500(tmp_path, keys, demo_case):
    issuers = tmp_path / "issuers.json"
    write_issuers(issuers, keys)
    app = make_app(tmp_path / "data", cds_trusted_issuers=issuers, cds_base_url=BASE)
    try:
        issuers.write_text("{half written")
        r = call(Client(app), sign(keys["rsa"], "RS384", KIDS["rsa"]), demo_case["id"])
        assert r.status_code == 503 and "trusted-issuers file is not valid" in r.json()["detail"]
    finally:
        app.state.engine.dispose()
