#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# webauthn create against vauth with packed batch, packed self or none
# attestation.  Every body is checked by the independent verifier
# (python-fido2) and by our own `webauthn verify`; the PIN must never
# appear in any output, not even with -vv.

. "$(dirname "$0")/test_webauthn_common.sh"

att=${1:?usage: test_webauthn_create.sh packed|self|none}
case $att in
packed)	expect=basic ;;
self)	expect=self ;;
none)	expect=none ;;
*)	fail "unknown attestation $att" ;;
esac

start_vauth key --attestation "$att" --ca "$tmp/ca.pem"
dev="unix:$tmp/key.sock"
export WA_TEST_PIN=58204736
run 0 "$PROVISIONING" --device "$dev" pin set --pin-env WA_TEST_PIN

trust=""
if [ "$att" = packed ]; then
	"$VAUTH" --export-ca "$tmp/root.pem" --ca "$tmp/ca.pem" ||
	    fail "vauth --export-ca"
	trust="--trust $tmp/root.pem"
fi

# 1. options from a file
make_options "$tmp/options.json"
run 0 "$PROVISIONING" --device "$dev" webauthn create \
    --options "$tmp/options.json" --pin-env WA_TEST_PIN \
    --display-name "{model} {date} {serial}"
mv "$tmp/out" "$tmp/body.json"
[ "$(wc -l <"$tmp/body.json")" -eq 1 ] || fail "body is not one line"
grep -q '@odata' "$tmp/body.json" && fail "body carries @odata"
# shellcheck disable=SC2086
run 0 "$PYTHON3" "$VERIFIER" --expect-attestation "$expect" $trust \
    "$tmp/options.json" "$tmp/body.json"
cat "$tmp/out"
if [ "$att" = packed ]; then
	# the chain must end in *this* root, not just any
	"$VAUTH" --export-ca "$tmp/other-root.pem" --ca "$tmp/other-ca.pem" ||
	    fail "vauth --export-ca (other)"
	run 1 "$PYTHON3" "$VERIFIER" --trust "$tmp/other-root.pem" \
	    "$tmp/options.json" "$tmp/body.json"
	grep -q "FAILED x5c_chain" "$tmp/err" || fail "foreign root accepted"
else
	# no x5c to check a root against
	run 1 "$PYTHON3" "$VERIFIER" --trust "$tmp/ca.pem" \
	    "$tmp/options.json" "$tmp/body.json"
fi
run 0 "$PROVISIONING" webauthn verify --options "$tmp/options.json" \
    --body "$tmp/body.json"
grep -q "^OK: fmt $( [ "$att" = none ] && echo none || echo packed)" \
    "$tmp/out" || fail "webauthn verify said: $(cat "$tmp/out")"
dn=$(json_get "$tmp/body.json" 'd["displayName"]')
if [ -z "$dn" ] || [ ${#dn} -gt 30 ]; then
	fail "displayName '$dn'"
fi

# 2. options on stdin, with -vv: the PIN is in no output
make_options "$tmp/options2.json"
run 0 "$PROVISIONING" -vv --device "$dev" webauthn create --options - \
    --pin-env WA_TEST_PIN <"$tmp/options2.json"
mv "$tmp/out" "$tmp/body2.json"
grep -q "$WA_TEST_PIN" "$tmp/body2.json" "$tmp/err" &&
    fail "the PIN leaked into the output"
# shellcheck disable=SC2086
run 0 "$PYTHON3" "$VERIFIER" --expect-attestation "$expect" $trust \
    "$tmp/options2.json" "$tmp/body2.json"

# 3. a body checked against the options of another registration
run 1 "$PROVISIONING" webauthn verify --options "$tmp/options.json" \
    --body "$tmp/body2.json"
grep -q "^FAIL: clientDataJSON.challenge" "$tmp/out" ||
    fail "mismatch not reported: $(cat "$tmp/out")"
run 1 "$PYTHON3" "$VERIFIER" "$tmp/options.json" "$tmp/body2.json"

# 4. a tampered body: one bit of rpIdHash inside authData
"$PYTHON3" - "$tmp/body.json" "$tmp/bad.json" <<'PY'
import base64, json, sys
from fido2 import cbor
d = json.load(open(sys.argv[1]))
r = d["publicKeyCredential"]["response"]
o = cbor.decode(base64.urlsafe_b64decode(r["attestationObject"] + "=="))
ad = bytearray(o["authData"])
ad[0] ^= 1
o["authData"] = bytes(ad)
r["attestationObject"] = base64.urlsafe_b64encode(
    cbor.encode(o)).rstrip(b"=").decode()
json.dump(d, open(sys.argv[2], "w"))
PY
run 1 "$PROVISIONING" webauthn verify --options "$tmp/options.json" \
    --body "$tmp/bad.json"
run 1 "$PYTHON3" "$VERIFIER" "$tmp/options.json" "$tmp/bad.json"

echo "PASS webauthn create ($att)"
