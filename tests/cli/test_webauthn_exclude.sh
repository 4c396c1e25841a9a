#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# excludeCredentials in Graph's three encodings reach the key: a second
# registration excluded by the first one's id is refused (exit 4), in
# every encoding.  And --attestation-none relabels a packed attestation
# into one the independent verifier accepts as "none".

. "$(dirname "$0")/test_webauthn_common.sh"

start_vauth key --attestation packed --ca "$tmp/ca.pem"
dev="unix:$tmp/key.sock"
export WA_TEST_PIN=90817263
run 0 "$PROVISIONING" --device "$dev" pin set --pin-env WA_TEST_PIN

make_options "$tmp/options.json"
run 0 "$PROVISIONING" --device "$dev" webauthn create \
    --options "$tmp/options.json" --pin-env WA_TEST_PIN
mv "$tmp/out" "$tmp/body.json"
run 0 "$PYTHON3" "$VERIFIER" "$tmp/options.json" "$tmp/body.json"

# the new credential id as base64url, base64url + padding digit, base64
id=$(json_get "$tmp/body.json" 'd["publicKeyCredential"]["id"]')
for enc in url digit std; do
	eid=$("$PYTHON3" - "$id" "$enc" <<'PY'
import base64, sys
s, enc = sys.argv[1], sys.argv[2]
raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
if enc == "url":
    print(s)
elif enc == "digit":
    print(s + str(-len(s) % 4))
else:
    print(base64.b64encode(raw).decode())
PY
)
	make_options "$tmp/ex-$enc.json" "$eid"
	run 4 "$PROVISIONING" --device "$dev" webauthn create \
	    --options "$tmp/ex-$enc.json" --pin-env WA_TEST_PIN
	grep -q "already holds a passkey" "$tmp/err" ||
	    fail "$enc: no exclusion message: $(cat "$tmp/err")"
	[ -s "$tmp/out" ] && fail "$enc: a body was printed"
done

# a relabelled attestation: fmt none, same authData
make_options "$tmp/options3.json"
run 0 "$PROVISIONING" --device "$dev" webauthn create \
    --options "$tmp/options3.json" --pin-env WA_TEST_PIN --attestation-none
mv "$tmp/out" "$tmp/body3.json"
run 0 "$PYTHON3" "$VERIFIER" --expect-fmt none --expect-attestation none \
    "$tmp/options3.json" "$tmp/body3.json"
run 0 "$PROVISIONING" webauthn verify --options "$tmp/options3.json" \
    --body "$tmp/body3.json"
grep -q "^OK: fmt none" "$tmp/out" || fail "verify: $(cat "$tmp/out")"

# a wrong PIN: exit 4, retries reported, nothing printed
export WA_WRONG_PIN=11335577
make_options "$tmp/options4.json"
run 4 "$PROVISIONING" --device "$dev" webauthn create \
    --options "$tmp/options4.json" --pin-env WA_WRONG_PIN
grep -q "wrong PIN" "$tmp/err" || fail "wrong PIN: $(cat "$tmp/err")"
grep -q "$WA_WRONG_PIN" "$tmp/err" && fail "the PIN leaked"
[ -s "$tmp/out" ] && fail "a body was printed"
# an unset PIN variable is a usage error
run 2 "$PROVISIONING" --device "$dev" webauthn create \
    --options "$tmp/options4.json" --pin-env WA_NO_SUCH_VARIABLE

# a key without a PIN: told to set one
start_vauth blank --attestation none
run 4 "$PROVISIONING" --device "unix:$tmp/blank.sock" webauthn create \
    --options "$tmp/options4.json" --pin-env WA_TEST_PIN
grep -q "pin set" "$tmp/err" || fail "no PIN: $(cat "$tmp/err")"

echo "PASS webauthn exclude / relabel / PIN errors"
