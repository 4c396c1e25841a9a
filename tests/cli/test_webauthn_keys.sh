#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# webauthn create and the key: the only key in --virtual-keys is used,
# several are refused (exit 2); a refused touch, no touch in time and
# Ctrl+C each end with the documented exit code and no body.

. "$(dirname "$0")/test_webauthn_common.sh"

export WA_TEST_PIN=13579135
make_options "$tmp/options.json"

# the one virtual key, also through the environment variable
mkdir "$tmp/keys"
start_vauth keys/one --attestation self --pin "$WA_TEST_PIN"
run 0 "$PROVISIONING" --virtual-keys "$tmp/keys" webauthn create \
    --options "$tmp/options.json" --pin-env WA_TEST_PIN
mv "$tmp/out" "$tmp/body.json"
run 0 "$PYTHON3" "$VERIFIER" --expect-attestation self "$tmp/options.json" \
    "$tmp/body.json"
make_options "$tmp/options2.json"
PROVISIONING_VIRTUAL_KEYS="$tmp/keys" run 0 "$PROVISIONING" webauthn create \
    --options "$tmp/options2.json" --pin-env WA_TEST_PIN
# two keys: no guessing
start_vauth keys/two --attestation self --pin "$WA_TEST_PIN"
run 2 "$PROVISIONING" --virtual-keys "$tmp/keys" webauthn create \
    --options "$tmp/options.json" --pin-env WA_TEST_PIN
grep -q -- "--device" "$tmp/err" || fail "several keys: $(cat "$tmp/err")"
[ -s "$tmp/out" ] && fail "a body was printed"
# ... unless one is named
run 0 "$PROVISIONING" --virtual-keys "$tmp/keys" \
    --device "unix:$tmp/keys/two.sock" webauthn create \
    --options "$tmp/options.json" --pin-env WA_TEST_PIN
# a key that is not there
run 4 "$PROVISIONING" --device "unix:$tmp/keys/none.sock" webauthn create \
    --options "$tmp/options.json" --pin-env WA_TEST_PIN

# the user refuses the touch
start_vauth deny --presence deny:100 --pin "$WA_TEST_PIN"
run 4 "$PROVISIONING" --device "unix:$tmp/deny.sock" webauthn create \
    --options "$tmp/options.json" --pin-env WA_TEST_PIN
grep -q "refused" "$tmp/err" || fail "deny: $(cat "$tmp/err")"
[ -s "$tmp/out" ] && fail "a body was printed"

# nobody touches the key within --timeout
start_vauth slow --presence delay:20000 --pin "$WA_TEST_PIN"
start=$(date +%s)
run 4 "$PROVISIONING" --device "unix:$tmp/slow.sock" webauthn create \
    --options "$tmp/options.json" --pin-env WA_TEST_PIN --timeout 2
grep -q "no touch in time" "$tmp/err" || fail "timeout: $(cat "$tmp/err")"
[ $(($(date +%s) - start)) -lt 15 ] || fail "--timeout 2 was not kept"

# Ctrl+C while the key waits for a touch: cancelled, exit 130
start_vauth slow2 --presence delay:20000 --pin "$WA_TEST_PIN"
start=$(date +%s)
run 130 "$PYTHON3" -c '
import signal, subprocess, sys, time
p = subprocess.Popen(sys.argv[1:])
time.sleep(1.5)
p.send_signal(signal.SIGINT)
sys.exit(p.wait())' "$PROVISIONING" --device "unix:$tmp/slow2.sock" \
    webauthn create --options "$tmp/options.json" --pin-env WA_TEST_PIN
[ -s "$tmp/out" ] && fail "a body was printed"
[ $(($(date +%s) - start)) -lt 15 ] || fail "Ctrl+C did not cancel"

echo "PASS webauthn keys"
