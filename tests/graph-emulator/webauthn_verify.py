"""Independent verification of a fido2Methods POST body (python-fido2 0.9.1 +
python3-cryptography), the way Entra would check a passkey registration."""

import datetime
import hashlib
import json
import uuid

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from fido2.attestation import Attestation  # also registers all formats
from fido2.attestation.base import InvalidAttestation, verify_x509_chain
from fido2.ctap2.base import AttestationObject

from common import GraphError, b64u, b64u_dec, iso, method_id_for

RP_ID = "login.microsoft.com"
ORIGIN = "https://" + RP_ID
RP_ID_HASH = hashlib.sha256(RP_ID.encode()).digest()
MISSING_ENTITY = ("The request is missing a fido2AuthenticationMethod entity "
                  "with a displayName and publicKeyCredential in the request "
                  "body. All other properties will be ignored.")
FLAG_UP, FLAG_UV, FLAG_BE, FLAG_BS, FLAG_AT, FLAG_ED = 1, 4, 8, 16, 64, 128
FORMATS = ("packed", "none", "tpm")


def bad(msg):
    return GraphError(400, "badRequest", msg)


def check_body(body, version):
    """Shape checks; returns (displayName or None, pkc dict)."""
    if not isinstance(body, dict) or "@odata.type" in body:
        raise bad(MISSING_ENTITY)
    pkc = body.get("publicKeyCredential")
    name = body.get("displayName")
    if not isinstance(pkc, dict) or (name is None and version == "beta") \
            or (name is not None and (not isinstance(name, str)
                                      or not name.strip())):
        raise bad(MISSING_ENTITY)
    resp = pkc.get("response")
    if not isinstance(pkc.get("id"), str) or not isinstance(resp, dict) \
            or not isinstance(resp.get("clientDataJSON"), str) \
            or not isinstance(resp.get("attestationObject"), str):
        raise bad("publicKeyCredential must have id and response.clientDataJSON "
                  "and response.attestationObject (base64url).")
    if name is not None and len(name) > 256:
        raise bad("displayName is too long.")
    return name, pkc


def _dec(field, s):
    try:
        return b64u_dec(s)
    except ValueError:
        raise bad("%s is not valid base64url." % field)


DEFAULT_PROFILE = "00000000-0000-0000-0000-000000000001"


def user_profiles(store, pol, uid):
    """The passkey profiles of the include targets the user is in (none
    if an exclude target holds them), as Entra applies them."""
    profs = pol.get("passkeyProfiles") or []
    if store.user_in_targets(uid, pol.get("excludeTargets", [])):
        return []
    ids = set()
    for t in pol.get("includeTargets", []):
        if not store.user_in_targets(uid, [t]):
            continue
        allowed = t.get("allowedPasskeyProfiles")
        if allowed:
            ids.update(allowed)
        elif any(p["id"] == DEFAULT_PROFILE for p in profs):
            ids.add(DEFAULT_PROFILE)
        else:
            ids.update(p["id"] for p in profs)
    return [p for p in profs if p["id"] in ids]


def _profile_refusal(p, aaguid, fmt, x5c, chained, synced):
    types = [t.strip() for t in (p.get("passkeyTypes") or
                                 "deviceBound,synced").split(",")]
    if ("synced" if synced else "deviceBound") not in types:
        return "passkey type not allowed"
    kr = p.get("keyRestrictions") or {}
    if kr.get("isEnforced"):
        listed = aaguid.lower() in [a.lower() for a in kr.get("aaGuids", [])]
        if kr.get("enforcementType", "block") == "allow" and not listed:
            return "AAGUID %s not allowed" % aaguid
        if kr.get("enforcementType", "block") == "block" and listed:
            return "AAGUID %s blocked" % aaguid
    if (p.get("attestationEnforcement") or "disabled") != "disabled":
        if fmt != "packed" or not x5c:
            return "attestation enforced: packed with x5c required"
        if not chained:
            return "attestation enforced: no chain to a metadata root"
    return None


def _check_profiles(store, pol, user, aaguid, fmt, x5c, chained, synced):
    profs = user_profiles(store, pol, user["id"])
    if not profs:
        raise bad("No passkey profile applies to the user.")
    why = [(p.get("name") or p["id"], _profile_refusal(
        p, aaguid, fmt, x5c, chained, synced)) for p in profs]
    if all(w for _, w in why):
        raise bad("The security key is not allowed by the user's passkey "
                  "profiles: " + "; ".join("%s: %s" % nw for nw in why))


def verify(body, user, version, store, codec, roots):
    """Verify a registration for `user`; return the method record to store.

    Raises GraphError(400) with a specific message on any failure. The
    challenge is consumed once it is found valid for this user.
    """
    name, pkc = check_body(body, version)
    cred_id = _dec("publicKeyCredential.id", pkc["id"])
    cdj = _dec("clientDataJSON", pkc["response"]["clientDataJSON"])
    att_raw = _dec("attestationObject", pkc["response"]["attestationObject"])

    # --- clientDataJSON -------------------------------------------------------
    try:
        cd = json.loads(cdj.decode("utf-8"))
        if not isinstance(cd, dict):
            raise ValueError()
    except (ValueError, UnicodeDecodeError):
        raise bad("clientDataJSON is not a JSON object.")
    if cd.get("type") != "webauthn.create":
        raise bad("clientDataJSON.type must be 'webauthn.create'.")
    if cd.get("origin") != ORIGIN:
        raise bad("clientDataJSON.origin '%s' is not allowed; expected '%s'."
                  % (cd.get("origin"), ORIGIN))
    if cd.get("crossOrigin") not in (None, False) or "topOrigin" in cd:
        raise bad("Cross-origin registrations are not allowed.")
    chal = cd.get("challenge")
    payload = codec.open(chal) if isinstance(chal, str) else None
    if payload is None or payload.get("tid") != store.tenant["id"]:
        raise bad("The challenge in clientDataJSON was not issued by this "
                  "service (it must be publicKey.challenge verbatim, base64url "
                  "without padding).")
    if payload.get("uid") != user["id"]:
        raise bad("The challenge was issued for a different user.")
    with store.lock:
        if payload["nonce"] in store.used_nonces:
            raise bad("The challenge has already been used.")
        if store.now() >= payload["exp"]:
            raise bad("The challenge has expired (challengeTimeoutDateTime "
                      "%s)." % iso(payload["exp"]))
        store.used_nonces.add(payload["nonce"])

    # --- attestationObject ------------------------------------------------------
    try:
        att = AttestationObject(att_raw)
        ad = att.auth_data
    except Exception as e:  # python-fido2 raises many kinds
        raise bad("attestationObject could not be parsed: %s" % e)
    if not isinstance(att.fmt, str) or not isinstance(att.att_statement, dict):
        raise bad("attestationObject has an invalid fmt or attStmt.")
    if ad.rp_id_hash != RP_ID_HASH:
        raise bad("authData rpIdHash is not SHA-256('%s')." % RP_ID)
    for flag, what in ((FLAG_UP, "user present (UP)"),
                       (FLAG_UV, "user verified (UV)"),
                       (FLAG_AT, "attested credential data (AT)")):
        if not ad.flags & flag:
            raise bad("authData flag %s is not set." % what)
    cdata = ad.credential_data
    if cdata.credential_id != cred_id:
        raise bad("publicKeyCredential.id does not match the credential id in "
                  "authData.")
    if len(cred_id) > 1023 or len(cred_id) < 16:
        raise bad("Credential id length %d is not supported." % len(cred_id))
    key = cdata.public_key
    alg = key.get(3)
    if alg == -7:
        if key.get(1) != 2 or key.get(-1) != 1 or len(key.get(-2, b"")) != 32 \
                or len(key.get(-3, b"")) != 32:
            raise bad("The ES256 credential public key is malformed.")
        try:
            ec.EllipticCurvePublicNumbers(
                int.from_bytes(key[-2], "big"), int.from_bytes(key[-3], "big"),
                ec.SECP256R1()).public_key()
        except ValueError:
            raise bad("The ES256 credential public key is not on P-256.")
    elif alg == -257:
        if key.get(1) != 3 or not key.get(-1) or not key.get(-2):
            raise bad("The RS256 credential public key is malformed.")
    else:
        raise bad("Credential public key algorithm %s is not one of "
                  "pubKeyCredParams (-7, -257)." % alg)
    ext = ad.extensions or {}
    if store.settings.get("strict_extensions"):
        if ext.get("credProtect") != 1:
            raise bad("authData extensions must contain credProtect = 1 "
                      "(userVerificationOptional); got %r."
                      % ext.get("credProtect"))
        if ext.get("hmac-secret") is not True:
            raise bad("authData extensions must contain hmac-secret = true "
                      "(hmacCreateSecret was requested).")

    # --- attestation statement ----------------------------------------------
    if att.fmt not in FORMATS:
        raise bad("Attestation format '%s' is not supported; use packed or "
                  "none." % att.fmt)
    cdh = hashlib.sha256(cdj).digest()
    try:
        result = Attestation.for_type(att.fmt)().verify(
            att.att_statement, ad, cdh)
    except InvalidAttestation as e:
        raise bad("The attestation statement (%s) failed verification: %s"
                  % (att.fmt, e or type(e).__name__))
    except Exception as e:
        raise bad("The attestation statement (%s) is invalid: %s"
                  % (att.fmt, e))
    x5c = list(att.att_statement.get("x5c") or [])
    chained = bool(x5c) and chains_to_root(x5c, roots, store.now())
    aaguid = str(uuid.UUID(bytes=bytes(cdata.aaguid)))

    # --- policy on the authenticator ----------------------------------------
    pol = store.policy
    if pol.get("passkeyProfiles"):
        _check_profiles(store, pol, user, aaguid, att.fmt, x5c, chained,
                        bool(ad.flags & FLAG_BE))
    kr = {} if pol.get("passkeyProfiles") else \
        (pol.get("keyRestrictions") or {})
    if kr.get("isEnforced"):
        listed = aaguid.lower() in [a.lower() for a in kr.get("aaGuids", [])]
        if kr.get("enforcementType", "block") == "allow" and not listed:
            raise bad("The security key model (AAGUID %s) is not allowed by "
                      "the FIDO2 key restriction policy." % aaguid)
        if kr.get("enforcementType", "block") == "block" and listed:
            raise bad("The security key model (AAGUID %s) is blocked by the "
                      "FIDO2 key restriction policy." % aaguid)
    if pol.get("isAttestationEnforced") and not pol.get("passkeyProfiles"):
        if att.fmt != "packed" or not x5c:
            raise bad("Attestation is enforced: a packed attestation with an "
                      "x5c certificate chain is required (got %s%s)."
                      % (att.fmt, "" if x5c else ", no x5c"))
        if not chained:
            raise bad("Attestation is enforced: the attestation certificate "
                      "does not chain to a trusted FIDO metadata root.")

    flags = ad.flags
    return {
        "id": method_id_for(cred_id),
        "credentialId": b64u(cred_id),
        "displayName": name,
        "createdDateTime": iso(store.now()),
        "aaGuid": aaguid,
        "model": store.model_for(aaguid),
        "attestationCertificates": [hashlib.sha1(d).hexdigest() for d in x5c],
        "attestationLevel": "attested" if chained else "notAttested",
        "passkeyType": "synced" if flags & FLAG_BE else "deviceBound",
        "verification": {
            "fmt": att.fmt,
            "attestationType": result.attestation_type.name.lower(),
            "flags": "0x%02x" % flags, "signCount": ad.counter,
            "credProtect": ext.get("credProtect"),
            "hmacSecret": ext.get("hmac-secret"),
            "extensions": sorted(ext.keys()),
            "publicKeyAlg": alg,
            "publicKeyCose": _cose_hex(key),
            "origin": cd["origin"], "crossOrigin": cd.get("crossOrigin"),
            "challengeNonce": payload["nonce"],
            "clientDataHash": cdh.hex(),
            "x5cChained": chained,
            "clientExtensionResults": pkc.get("clientExtensionResults"),
        },
    }


def _cose_hex(key):
    from fido2 import cbor
    return cbor.encode(dict(key)).hex()


def chains_to_root(x5c, roots, now):
    """True if x5c (leaf first) chains by signature to one of the DER roots
    and every certificate is within its validity period."""
    if not roots:
        return False
    t = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
    try:
        for der in x5c:
            c = x509.load_der_x509_certificate(der)
            if not (c.not_valid_before.replace(tzinfo=datetime.timezone.utc)
                    <= t <= c.not_valid_after.replace(
                        tzinfo=datetime.timezone.utc)):
                return False
    except ValueError:
        return False
    for root in roots:
        chain = list(x5c)
        if chain[-1] != root:
            chain.append(root)
        try:
            verify_x509_chain(chain)
            return True
        except Exception:
            continue
    return False
