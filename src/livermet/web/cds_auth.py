"""Trusting CDS Clients: the EHR's signed JWT on ``/cds-services`` (CDS Hooks 2.0).

The specification (https://cds-hooks.hl7.org/, "Trusting CDS Clients") has the CDS Client (the
EHR) send ``Authorization: Bearer <JWT>`` on every call, discovery included, signed with the
EHR's private key (JWS, rfc7515). What is checked here, and where each rule comes from:

- header ``alg``: never ``none`` and never a symmetric (HMAC) algorithm ("SHALL NOT"); ES384
  and RS384 are RECOMMENDED. Accepted: :data:`ACCEPTED_ALGORITHMS` (RSA, RSA-PSS, ECDSA), or the
  subset configured for the issuer; and only those that fit the key (RS/PS for an RSA key, the
  ES of the key's curve for an EC key, the JWK's own ``alg`` when it names one).
- header ``kid``: REQUIRED; picks the key in the issuer's JWK Set (rfc7517). ``typ``, when
  present, must be ``JWT``. ``jku`` is never fetched: hospitals are offline, so the JWK Set
  is "communicated out-of-band", i.e. configured here (the spec's alternative to ``jku``).
- payload ``iss`` (REQUIRED): must be an allowlisted issuer ("CDS Services SHOULD limit the CDS
  Clients they trust by maintaining an allowlist of iss"). ``aud`` (REQUIRED, string or array):
  "MUST be the URL of the CDS Service endpoint being invoked", e.g.
  ``https://cds.example.org/cds-services`` for discovery and
  ``https://cds.example.org/cds-services/some-service`` for a service. ``exp``, ``iat``
  (REQUIRED): checked with a small clock-skew allowance. ``jti`` (REQUIRED): "a nonce ... used
  to protect against replay attacks"; a ``jti`` seen before from the same issuer is refused.
  ``sub`` and ``tenant`` are checked only when the issuer's entry lists allowed values.
- lifetime: the CDS Hooks implementation best practices (cds-hooks.org/best-practices) keep
  ``jti`` values "for the maximum duration of all JWTs processed by this CDS Service ... no
  more than an hour": ``exp - iat`` above :data:`DEFAULT_MAX_LIFETIME_S` (configurable) is
  refused, which also bounds the replay memory.

The trusted issuers come from a local JSON file (``LIVERMET_CDS_TRUSTED_ISSUERS``); see
``docs/cds-hooks.md`` for its format. Signature checks are PyJWT's (with ``cryptography``):
nothing here is hand-rolled cryptography.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

log = logging.getLogger("livermet.web.cds_auth")

ENV_TRUSTED_ISSUERS = "LIVERMET_CDS_TRUSTED_ISSUERS"
ENV_BASE_URL = "LIVERMET_CDS_BASE_URL"

# Asymmetric JWS algorithms (rfc7518 section 3.1) that PyJWT verifies with `cryptography`.
# CDS Hooks forbids "none" and every HMAC algorithm; it recommends ES384 and RS384.
RSA_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
EC_ALGORITHM_BY_CURVE = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
ACCEPTED_ALGORITHMS = RSA_ALGORITHMS + tuple(EC_ALGORITHM_BY_CURVE.values())

# Not clinical numbers: allowances of the token check.
DEFAULT_CLOCK_SKEW_S = 60  # tolerated clock difference between the EHR and livermet
MAX_CLOCK_SKEW_S = 300
DEFAULT_MAX_LIFETIME_S = 3600  # best practices: JWTs live "no more than an hour"
MAX_MAX_LIFETIME_S = 86400
MIN_RSA_BITS = 2048  # rfc7518 3.3: "A key of size 2048 bits or larger MUST be used" with RS*
REQUIRED_CLAIMS = ("iss", "aud", "exp", "iat", "jti")  # CDS Hooks: all REQUIRED
ROLES = ("admin", "clinician", "coordinator", "viewer")  # livermet.web.settings.ROLES
DEFAULT_ROLE = "viewer"  # the CDS endpoints need only the "read" permission

_TOP_KEYS = {"issuers", "clock_skew_seconds", "max_lifetime_seconds", "comment"}
_ISSUER_KEYS = {"iss", "name", "jwks", "jwks_file", "algorithms", "sub", "tenant", "role", "comment"}


class TrustConfigError(ValueError):
    """The trusted-issuers file is wrong; the message names the file, the field and the value."""


class CdsAuthError(Exception):
    """A CDS Hooks JWT is refused (HTTP 401); ``reason`` says why, in words for the EHR's team."""

    def __init__(self, reason: str, *, iss: str | None = None, kid: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.iss = iss
        self.kid = kid


@dataclass(frozen=True)
class TrustedKey:
    kid: str
    kty: str  # "RSA" or "EC"
    algorithms: tuple[str, ...]  # what this key may verify (key type, curve, JWK "alg", issuer's list)
    public_key: Any  # a `cryptography` public key object


@dataclass(frozen=True)
class TrustedIssuer:
    iss: str
    name: str
    role: str
    keys: Mapping[str, TrustedKey]
    subjects: frozenset[str] | None  # allowed `sub` values (None: not checked)
    tenants: frozenset[str] | None  # allowed `tenant` values (None: not checked)


@dataclass(frozen=True)
class TrustStore:
    issuers: Mapping[str, TrustedIssuer]
    clock_skew_s: int = DEFAULT_CLOCK_SKEW_S
    max_lifetime_s: int = DEFAULT_MAX_LIFETIME_S
    source: str = ""


@dataclass(frozen=True)
class CdsClient:
    """A verified CDS Client call."""

    iss: str
    name: str
    role: str
    sub: str | None
    tenant: str | None
    jti: str
    kid: str
    exp: int


EMPTY_TRUST = TrustStore(issuers={}, source="(none configured)")


# ------------------------------------------------------------------ configuration
def load_trusted_issuers(path: str | Path) -> TrustStore:
    """Read and check the trusted-issuers file (format in ``docs/cds-hooks.md``).

    Raises :class:`TrustConfigError` naming the file, the field, the value and what is expected.
    """
    path = Path(path)
    where = f"{ENV_TRUSTED_ISSUERS} file {str(path)!r}"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TrustConfigError(f"{where}: cannot be read ({exc.strerror or exc}); expected a JSON file "
                               "listing the trusted CDS clients (see docs/cds-hooks.md)") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TrustConfigError(f"{where}: not valid JSON (line {exc.lineno}, column {exc.colno}: "
                               f"{exc.msg})") from None
    if not isinstance(doc, dict):
        raise TrustConfigError(f"{where}: expected a JSON object {{\"issuers\": [...]}}, "
                               f"got {type(doc).__name__}")
    unknown = sorted(set(doc) - _TOP_KEYS)
    if unknown:
        raise TrustConfigError(f"{where}: unknown field(s) {unknown}; expected {sorted(_TOP_KEYS)}")
    skew = _int_field(doc, "clock_skew_seconds", DEFAULT_CLOCK_SKEW_S, 0, MAX_CLOCK_SKEW_S, where)
    lifetime = _int_field(doc, "max_lifetime_seconds", DEFAULT_MAX_LIFETIME_S, 1, MAX_MAX_LIFETIME_S, where)
    entries = doc.get("issuers")
    if not isinstance(entries, list):
        raise TrustConfigError(f"{where}: issuers={_show(entries)}: expected a list of issuer objects")
    issuers: dict[str, TrustedIssuer] = {}
    for i, entry in enumerate(entries):
        issuer = _issuer(entry, f"{where}: issuers[{i}]", path.parent)
        if issuer.iss in issuers:
            raise TrustConfigError(f"{where}: issuers[{i}].iss={issuer.iss!r} is listed twice; "
                                   "expected each issuer once (put all its keys in one JWK Set)")
        issuers[issuer.iss] = issuer
    return TrustStore(issuers=issuers, clock_skew_s=skew, max_lifetime_s=lifetime, source=str(path))


def _show(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _int_field(doc: Mapping, name: str, default: int, lo: int, hi: int, where: str) -> int:
    value = doc.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise TrustConfigError(f"{where}: {name}={_show(value)}: expected a whole number of seconds "
                               f"from {lo} to {hi} (default {default})")
    return value


def _str_set(entry: Mapping, name: str, where: str) -> frozenset[str] | None:
    if name not in entry:
        return None
    value = entry[name]
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
        raise TrustConfigError(f"{where}.{name}={_show(value)}: expected a non-empty string or a "
                               "non-empty list of strings")
    return frozenset(values)


def _issuer(entry: Any, where: str, base_dir: Path) -> TrustedIssuer:
    if not isinstance(entry, dict):
        raise TrustConfigError(f"{where}={_show(entry)}: expected an object with iss and jwks (or jwks_file)")
    unknown = sorted(set(entry) - _ISSUER_KEYS)
    if unknown:
        raise TrustConfigError(f"{where}: unknown field(s) {unknown}; expected {sorted(_ISSUER_KEYS)}")
    iss = entry.get("iss")
    if not isinstance(iss, str) or not iss.strip():
        raise TrustConfigError(f"{where}.iss={_show(iss)}: expected the EHR's issuer identifier, "
                               "exactly as its JWTs carry it (e.g. \"https://ehr.hospital.example/\")")
    name = entry.get("name", iss)
    if not isinstance(name, str) or not name.strip():
        raise TrustConfigError(f"{where}.name={_show(name)}: expected a non-empty label")
    role = entry.get("role", DEFAULT_ROLE)
    if role not in ROLES:
        raise TrustConfigError(f"{where}.role={_show(role)}: expected one of {', '.join(ROLES)} "
                               f"(default {DEFAULT_ROLE}: the CDS endpoints need only reading)")
    algorithms = entry.get("algorithms", list(ACCEPTED_ALGORITHMS))
    if (not isinstance(algorithms, list) or not algorithms
            or not all(isinstance(a, str) and a in ACCEPTED_ALGORITHMS for a in algorithms)):
        raise TrustConfigError(f"{where}.algorithms={_show(algorithms)}: expected a non-empty list from "
                               f"{', '.join(ACCEPTED_ALGORITHMS)} (never none or HS*: CDS Hooks forbids "
                               "unsigned and symmetric JWTs)")
    if ("jwks" in entry) == ("jwks_file" in entry):
        raise TrustConfigError(f"{where}: expected exactly one of jwks (the JWK Set itself) or jwks_file "
                               "(a path to it, relative to this file)")
    if "jwks" in entry:
        jwks, jwks_where = entry["jwks"], f"{where}.jwks"
    else:
        jwks_path = entry["jwks_file"]
        if not isinstance(jwks_path, str) or not jwks_path:
            raise TrustConfigError(f"{where}.jwks_file={_show(jwks_path)}: expected a file path")
        full = Path(jwks_path) if Path(jwks_path).is_absolute() else base_dir / jwks_path
        jwks_where = f"{where}.jwks_file {str(full)!r}"
        try:
            jwks = json.loads(full.read_text(encoding="utf-8"))
        except OSError as exc:
            raise TrustConfigError(f"{jwks_where}: cannot be read ({exc.strerror or exc})") from None
        except json.JSONDecodeError as exc:
            raise TrustConfigError(f"{jwks_where}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    keys = _jwk_set(jwks, jwks_where, tuple(algorithms))
    return TrustedIssuer(iss=iss, name=name, role=role, keys=keys,
                         subjects=_str_set(entry, "sub", where), tenants=_str_set(entry, "tenant", where))


def _jwk_set(jwks: Any, where: str, issuer_algorithms: tuple[str, ...]) -> dict[str, TrustedKey]:
    import jwt

    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        raise TrustConfigError(f"{where}: expected a JWK Set {{\"keys\": [...]}} (rfc7517) with at least one "
                               "public key")
    keys: dict[str, TrustedKey] = {}
    for i, jwk in enumerate(jwks["keys"]):
        at = f"{where}.keys[{i}]"
        if not isinstance(jwk, dict):
            raise TrustConfigError(f"{at}={_show(jwk)}: expected a JWK object")
        kid = jwk.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TrustConfigError(f"{at}.kid={_show(kid)}: expected the key id the EHR puts in its JWT "
                                   "header (CDS Hooks requires kid)")
        if kid in keys:
            raise TrustConfigError(f"{at}.kid={kid!r} appears twice; CDS Hooks: kid MUST be unique within "
                                   "the JWK Set")
        kty = jwk.get("kty")
        if kty not in ("RSA", "EC"):
            raise TrustConfigError(f"{at}.kty={_show(kty)}: expected RSA or EC (an asymmetric public key; "
                                   "CDS Hooks forbids shared-secret keys)")
        private = sorted(k for k in ("d", "p", "q", "dp", "dq", "qi", "oth") if k in jwk)
        if private:
            raise TrustConfigError(f"{at} (kid {kid!r}) holds private-key fields {private}: give livermet "
                                   "only the EHR's PUBLIC JWK Set; the private key must never leave the EHR")
        use = jwk.get("use")
        if use is not None and use != "sig":
            raise TrustConfigError(f"{at}.use={_show(use)}: expected \"sig\" (a signing key) or no use")
        if kty == "RSA":
            fits = RSA_ALGORITHMS
        else:
            crv = jwk.get("crv")
            if crv not in EC_ALGORITHM_BY_CURVE:
                raise TrustConfigError(f"{at}.crv={_show(crv)}: expected one of "
                                       f"{', '.join(EC_ALGORITHM_BY_CURVE)}")
            fits = (EC_ALGORITHM_BY_CURVE[crv],)
        jwk_alg = jwk.get("alg")
        if jwk_alg is not None:
            if jwk_alg not in fits:
                raise TrustConfigError(f"{at}.alg={_show(jwk_alg)}: does not fit a {kty} key"
                                       f"{' on ' + jwk['crv'] if kty == 'EC' else ''}; expected one of "
                                       f"{', '.join(fits)}")
            fits = (jwk_alg,)
        algorithms = tuple(a for a in fits if a in issuer_algorithms)
        if not algorithms:
            raise TrustConfigError(f"{at} (kid {kid!r}, {kty}): none of the issuer's algorithms "
                                   f"{list(issuer_algorithms)} fits this key (it could verify {', '.join(fits)})")
        try:
            public_key = jwt.PyJWK(jwk, algorithms[0]).key
        except (jwt.exceptions.PyJWTError, ValueError, TypeError) as exc:  # InvalidKeyError, PyJWKError
            raise TrustConfigError(f"{at} (kid {kid!r}): not a usable {kty} public key ({exc})") from None
        if kty == "RSA" and public_key.key_size < MIN_RSA_BITS:
            raise TrustConfigError(f"{at} (kid {kid!r}): an RSA key of {public_key.key_size} bits; expected at "
                                   f"least {MIN_RSA_BITS} (rfc7518 section 3.3)")
        keys[kid] = TrustedKey(kid=kid, kty=kty, algorithms=algorithms, public_key=public_key)
    return keys


# ------------------------------------------------------------------ replay memory
class ReplayStore:
    """The ``jti`` values already used, per issuer, until their token expires.

    Kept in a small SQLite file in the data folder so that every worker process of one
    livermet (``livermet serve --workers N``) shares it; the primary key makes "first use"
    atomic across processes.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._next_purge = 0.0

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # replay memory outlives a crash only for minutes anyway
            conn.execute("CREATE TABLE IF NOT EXISTS used_jti (iss TEXT NOT NULL, jti TEXT NOT NULL, "
                         "keep_until INTEGER NOT NULL, PRIMARY KEY (iss, jti))")
            self._conn = conn
        return self._conn

    def first_use(self, iss: str, jti: str, keep_until: int, now: float | None = None) -> bool:
        """Record ``(iss, jti)``; False when it was already recorded (a replay)."""
        now = time.time() if now is None else now
        with self._lock:
            conn = self._connection()
            if now >= self._next_purge:
                conn.execute("DELETE FROM used_jti WHERE keep_until < ?", (int(now),))
                self._next_purge = now + 60
            try:
                conn.execute("INSERT INTO used_jti (iss, jti, keep_until) VALUES (?, ?, ?)",
                             (iss, jti, int(keep_until)))
            except sqlite3.IntegrityError:
                return False
            return True

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


# ------------------------------------------------------------------ verification
def looks_like_jwt(token: str) -> bool:
    """A compact JWS (three base64url parts); livermet API tokens (``lmt_...``) have no dots."""
    return token.count(".") == 2


def _utc(ts: Any) -> str:
    try:
        return datetime.fromtimestamp(int(ts), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (TypeError, ValueError, OverflowError, OSError):
        return repr(ts)


def verify_cds_jwt(token: str, *, trust: TrustStore, audience: str, replay: ReplayStore,
                   now: float | None = None) -> CdsClient:
    """Check a CDS Client's JWT for the endpoint URL ``audience``; raise :class:`CdsAuthError`.

    The checks run in this order: well-formed, ``alg`` acceptable, ``iss`` trusted, ``kid``
    known, signature (PyJWT), the claims, the lifetime, ``sub``/``tenant``, and last the
    ``jti`` (recorded only for a token that passed everything else, so a forged token cannot
    spend a genuine one's ``jti``).
    """
    import jwt

    try:
        header = jwt.get_unverified_header(token)
    except jwt.exceptions.DecodeError as exc:
        raise CdsAuthError(f"the bearer token is not a well-formed JWT ({exc})") from None
    alg = header.get("alg")
    if alg not in ACCEPTED_ALGORITHMS:
        raise CdsAuthError(f"header alg={_show(alg)} is not accepted: CDS Hooks forbids unsigned ('none') and "
                           "symmetric (HMAC, HS*) JWTs; sign with the EHR's private key "
                           f"(ES384 or RS384 recommended; accepted: {', '.join(ACCEPTED_ALGORITHMS)})")
    typ = header.get("typ")
    if typ is not None and str(typ).upper() != "JWT":
        raise CdsAuthError(f"header typ={_show(typ)}: expected \"JWT\"")
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.exceptions.DecodeError as exc:
        raise CdsAuthError(f"the JWT payload cannot be read ({exc})") from None
    iss = unverified.get("iss")
    kid = header.get("kid")
    if not isinstance(iss, str) or not iss:
        raise CdsAuthError("claim 'iss' is missing: CDS Hooks requires iss (the EHR's identifier)", kid=kid)
    issuer = trust.issuers.get(iss)
    if issuer is None:
        raise CdsAuthError(f"iss={iss!r} is not a trusted CDS client of this livermet (trusted issuers and "
                           f"their public keys are configured in {ENV_TRUSTED_ISSUERS})", iss=iss, kid=kid)
    if not isinstance(kid, str) or not kid:
        raise CdsAuthError("header kid is missing: CDS Hooks requires kid, the id of the signing key in the "
                           "EHR's JWK Set", iss=iss)
    key = issuer.keys.get(kid)
    if key is None:
        raise CdsAuthError(f"kid={kid!r} is not in the JWK Set configured for iss={iss!r} (a new or rotated "
                           f"key must be added to {ENV_TRUSTED_ISSUERS})", iss=iss, kid=kid)
    if alg not in key.algorithms:
        raise CdsAuthError(f"header alg={alg!r} does not fit key {kid!r} of iss={iss!r} ({key.kty}; this key "
                           f"verifies {', '.join(key.algorithms)})", iss=iss, kid=kid)
    audiences = [audience.rstrip("/"), audience.rstrip("/") + "/"]
    try:
        claims = jwt.decode(
            token, key.public_key, algorithms=list(key.algorithms), audience=audiences, issuer=iss,
            leeway=trust.clock_skew_s,
            options={"require": list(REQUIRED_CLAIMS), "verify_sub": False, "verify_jti": False})
    except jwt.exceptions.InvalidSignatureError:
        raise CdsAuthError(f"the signature does not verify with key {kid!r} of iss={iss!r}", iss=iss,
                           kid=kid) from None
    except jwt.exceptions.MissingRequiredClaimError as exc:
        raise CdsAuthError(f"claim {exc.claim!r} is missing: CDS Hooks requires {', '.join(REQUIRED_CLAIMS)}",
                           iss=iss, kid=kid) from None
    except jwt.exceptions.ExpiredSignatureError:
        raise CdsAuthError(f"the JWT expired (exp {_utc(unverified.get('exp'))}, now "
                           f"{_utc(time.time() if now is None else now)}, allowing {trust.clock_skew_s} s of "
                           "clock difference); the EHR must sign a fresh JWT for each call", iss=iss,
                           kid=kid) from None
    except jwt.exceptions.ImmatureSignatureError:
        raise CdsAuthError(f"the JWT is not valid yet (iat/nbf {_utc(unverified.get('iat'))} is in the future "
                           f"beyond {trust.clock_skew_s} s of clock difference): check the EHR's clock",
                           iss=iss, kid=kid) from None
    except jwt.exceptions.InvalidAudienceError:
        raise CdsAuthError(f"aud={_show(unverified.get('aud'))} is not this endpoint: CDS Hooks requires aud "
                           f"to be the URL being called, here {audiences[0]!r}", iss=iss, kid=kid) from None
    except jwt.exceptions.InvalidIssuedAtError:
        raise CdsAuthError(f"claim iat={_show(unverified.get('iat'))}: expected a number of seconds since "
                           "1970-01-01T00:00:00Z", iss=iss, kid=kid) from None
    except jwt.exceptions.InvalidAlgorithmError as exc:
        raise CdsAuthError(f"header alg={alg!r} refused ({exc})", iss=iss, kid=kid) from None
    except jwt.exceptions.InvalidTokenError as exc:  # DecodeError (e.g. exp not a number), InvalidIssuer...
        raise CdsAuthError(f"the JWT is not valid ({exc})", iss=iss, kid=kid) from None
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti.strip():
        raise CdsAuthError(f"claim jti={_show(jti)}: expected a non-empty string, unique for each call",
                           iss=iss, kid=kid)
    exp, iat = int(claims["exp"]), int(claims["iat"])
    if exp - iat > trust.max_lifetime_s:
        raise CdsAuthError(f"the JWT lives {exp - iat} s (exp - iat); at most {trust.max_lifetime_s} s are "
                           "accepted (CDS Hooks best practice: short-lived, about 5 minutes)", iss=iss, kid=kid)
    sub = claims.get("sub")
    if issuer.subjects is not None and sub not in issuer.subjects:
        raise CdsAuthError(f"sub={_show(sub)} is not a client id configured for iss={iss!r}", iss=iss, kid=kid)
    tenant = claims.get("tenant")
    if issuer.tenants is not None and tenant not in issuer.tenants:
        raise CdsAuthError(f"tenant={_show(tenant)} is not a tenant configured for iss={iss!r}", iss=iss,
                           kid=kid)
    if not replay.first_use(iss, jti, exp + trust.clock_skew_s, now=now):
        raise CdsAuthError(f"jti={jti!r} was already used: a replayed JWT; the EHR must sign a new JWT with a "
                           "fresh jti for every call", iss=iss, kid=kid)
    return CdsClient(iss=iss, name=issuer.name, role=issuer.role, sub=sub if isinstance(sub, str) else None,
                     tenant=tenant if isinstance(tenant, str) else None, jti=jti, kid=kid, exp=exp)
