#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Bad creationOptions are refused with a clear message and exit 2, before
# any key is touched (the --device named here does not exist).

. "$(dirname "$0")/test_webauthn_common.sh"

dev="unix:$tmp/no-such-key.sock"
export WA_TEST_PIN=58204736

# bad NAME MESSAGE: options in $tmp/NAME.json must fail with MESSAGE
bad()
{
	run 2 "$PROVISIONING" --device "$dev" webauthn create \
	    --options "$tmp/$1.json" --pin-env WA_TEST_PIN
	grep -qF -- "$2" "$tmp/err" ||
	    fail "$1: message lacks '$2': $(cat "$tmp/err")"
	[ -s "$tmp/out" ] && fail "$1: something on stdout"
	run 2 "$PROVISIONING" webauthn verify --options "$tmp/$1.json" \
	    --body "$tmp/good.json"
	grep -qF -- "$2" "$tmp/err" || fail "$1 (verify): $(cat "$tmp/err")"
}

# mutate NAME PYTHON: a copy of good.json changed by PYTHON (on `d`/`pk`)
mutate()
{
	"$PYTHON3" - "$tmp/good.json" "$tmp/$1.json" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
pk = d["publicKey"]
exec(sys.argv[3])
json.dump(d, open(sys.argv[2], "w"))
PY
}

make_options "$tmp/good.json"

mutate no-rp 'del pk["rp"]'
bad no-rp "publicKey.rp is missing"
mutate no-rpid 'del pk["rp"]["id"]'
bad no-rpid "publicKey.rp.id is missing"
mutate rpid-url 'pk["rp"]["id"] = "https://login.microsoft.com/"'
bad rpid-url "is not a host name"
mutate no-es256 'pk["pubKeyCredParams"] = [{"type": "public-key", "alg": -257}]'
bad no-es256 "ES256"
mutate bad-id 'pk["excludeCredentials"][1]["id"] = "not*base64"'
bad bad-id "excludeCredentials[1].id"
mutate bad-id2 'pk["excludeCredentials"][0]["id"] = "Zg1"'
bad bad-id2 "excludeCredentials[0].id"
mutate long-user 'pk["user"]["id"] = "A" * 88'
bad long-user "user.id decodes to 66 bytes"
mutate no-challenge 'del pk["challenge"]'
bad no-challenge "publicKey.challenge is missing"
mutate bad-policy 'pk["extensions"]["credentialProtectionPolicy"] = "x"'
bad bad-policy "credentialProtectionPolicy"
# a relying party other than Entra's: refused before the key (create)
mutate rpid-foreign 'pk["rp"]["id"] = "login.microsoft.com.evil.example"'
run 2 "$PROVISIONING" --device "$dev" webauthn create \
    --options "$tmp/rpid-foreign.json" --pin-env WA_TEST_PIN
grep -qF 'relying party "login.microsoft.com.evil.example", not login.microsoft.com' \
    "$tmp/err" || fail "rpid-foreign: $(cat "$tmp/err")"
mutate rpid-dots 'pk["rp"]["id"] = "login..microsoft.com"'
run 2 "$PROVISIONING" --device "$dev" webauthn create \
    --options "$tmp/rpid-dots.json" --pin-env WA_TEST_PIN
grep -qF 'relying party "login..microsoft.com"' "$tmp/err" ||
    fail "rpid-dots: $(cat "$tmp/err")"
mutate graph-error 'd.clear(); d["error"] = {"code": "badRequest",
    "message": "nope"}'
bad graph-error "Graph error response"

printf '{"publicKey": {"rp": ' >"$tmp/truncated.json"
bad truncated "not valid JSON"
printf 'not json at all' >"$tmp/text.json"
bad text "not valid JSON"
"$PYTHON3" -c 'import sys; print("[" * 100 + "]" * 100)' >"$tmp/deep.json"
bad deep "nested deeper"
# huge: one byte over 1 MiB, as a file and on stdin
"$PYTHON3" -c 'import sys; sys.stdout.write("{" + " " * (1 << 20) + "}")' \
    >"$tmp/huge.json"
bad huge "larger than 1048576 bytes"
run 2 "$PROVISIONING" --device "$dev" webauthn create --options - \
    --pin-env WA_TEST_PIN <"$tmp/huge.json"
grep -q "stdin is larger than" "$tmp/err" ||
    fail "huge stdin: $(cat "$tmp/err")"

# files and arguments
run 2 "$PROVISIONING" webauthn create --options "$tmp/missing.json"
grep -q "cannot read" "$tmp/err" || fail "missing file: $(cat "$tmp/err")"
run 2 "$PROVISIONING" webauthn create
run 2 "$PROVISIONING" webauthn create --options "$tmp/good.json" --bogus
run 2 "$PROVISIONING" webauthn create --options "$tmp/good.json" \
    --timeout 0
run 2 "$PROVISIONING" --device "$dev" webauthn create \
    --options "$tmp/good.json" --display-name "{nope}"
grep -q "display-name" "$tmp/err" || fail "template: $(cat "$tmp/err")"
run 2 "$PROVISIONING" webauthn verify --options "$tmp/good.json"
run 2 "$PROVISIONING" webauthn frobnicate
run 2 "$PROVISIONING" webauthn
run 0 "$PROVISIONING" webauthn create --help
grep -q "display-name" "$tmp/out" || fail "--help"
# a body that is not a body: exit 1 from verify
printf '{"displayName":"k"}' >"$tmp/notbody.json"
run 1 "$PROVISIONING" webauthn verify --options "$tmp/good.json" \
    --body "$tmp/notbody.json"
grep -q "^FAIL:" "$tmp/out" || fail "verify: $(cat "$tmp/out")"

echo "PASS webauthn bad options"
