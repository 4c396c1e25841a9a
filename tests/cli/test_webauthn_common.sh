# SPDX-License-Identifier: BSD-2-Clause
#
# Sourced by the test_webauthn_*.sh tests: a scratch directory, vauth
# processes that die with the test, and Graph-shaped creationOptions.
# ctest sets SRCDIR, BINDIR, PYTHON3, PROVISIONING and VAUTH.

set -eu

: "${SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${BINDIR:=$SRCDIR/build}"
: "${PYTHON3:=/usr/bin/python3}"
: "${PROVISIONING:=$BINDIR/src/cli/provisioning}"
: "${VAUTH:=$BINDIR/vauth/vauth}"
# shellcheck disable=SC2034  # used by the tests that source this
VERIFIER="$SRCDIR/tests/verify/verify_registration.py"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/webauthn-test.XXXXXX")
vauth_pids=""

cleanup()
{
	for p in $vauth_pids; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

fail()
{
	echo "FAIL: $*" >&2
	if [ -s "$tmp/err" ]; then
		echo "--- last stderr:" >&2
		cat "$tmp/err" >&2
	fi
	exit 1
}

# start_vauth NAME [vauth options...]: socket at $tmp/NAME.sock
start_vauth()
{
	local sock="$tmp/$1.sock" n=0
	shift
	"$VAUTH" --socket "$sock" "$@" 2>>"$tmp/vauth.log" &
	vauth_pids="$vauth_pids $!"
	while [ $n -lt 200 ]; do
		[ -S "$sock" ] && return 0
		sleep 0.05
		n=$((n + 1))
	done
	cat "$tmp/vauth.log" >&2
	fail "vauth did not create $sock"
}

# run WANT_EXIT CMD...: stdout to $tmp/out, stderr to $tmp/err
run()
{
	local want=$1 rc=0
	shift
	"$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	[ "$rc" -eq "$want" ] || fail "exit $rc, want $want: $*"
}

# make_options FILE [EXCLUDED_ID...]: creationOptions as Graph sends them
# (~6.9 KB challenge, the real excluded ids in all three encodings)
make_options()
{
	"$PYTHON3" - "$@" <<'PY'
import base64, datetime, json, os, sys

def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

out, extra = sys.argv[1], sys.argv[2:]
jwe = b'{"alg":"RSA-OAEP-256","enc":"A256GCM"}.' + os.urandom(5160)
exp = datetime.datetime.utcnow() + datetime.timedelta(minutes=5)
ids = ["TZ2KrDEawbrIGQsnheGZ/BG9Nfnb7blSGwQYMGyJIhM=",
       "GshyINLMaOOwqt1LNUi0gQ==",
       "prXptqCfm_ohEAcE2Jw6CUtUb4uWpb2vaS-cFB82ruMhcIRAE17S0g1bkPjtsC6S0",
       "MMeD8wrNCZ-0hbfdYvvAIzrsrTGd_uXdt2iXbYlGJSs1"] + extra
doc = {
    "@odata.context": "https://graph.microsoft.com/beta/$metadata#"
                      "microsoft.graph.webauthnCredentialCreationOptions",
    "challengeTimeoutDateTime": exp.strftime("%Y-%m-%dT%H:%M:%SZ"),
    "publicKey": {
        "rp": {"id": "login.microsoft.com", "name": "Microsoft"},
        "user": {"id": b64u(b"OF:" + os.urandom(48)),
                 "name": "adele@contoso.example",
                 "displayName": "Adele Vance"},
        "challenge": b64u(jwe),
        "pubKeyCredParams": [{"type": "public-key", "alg": -7},
                             {"type": "public-key", "alg": -257}],
        "timeout": 0,
        "excludeCredentials": [{"type": "public-key", "id": i,
                                "transports": ["usb"]} for i in ids],
        "authenticatorSelection": {
            "authenticatorAttachment": "cross-platform",
            "requireResidentKey": True, "userVerification": "required"},
        "attestation": "direct",
        "extensions": {"hmacCreateSecret": True,
                       "enforceCredentialProtectionPolicy": True,
                       "credentialProtectionPolicy":
                           "userVerificationOptional"},
    },
}
with open(out, "w") as f:
    json.dump(doc, f, indent=2)
PY
}

# json_get FILE EXPR: a value out of a JSON file (EXPR indexes `d`)
json_get()
{
	"$PYTHON3" -c 'import json,sys; d=json.load(open(sys.argv[1]));
print(eval(sys.argv[2]))' "$1" "$2"
}
