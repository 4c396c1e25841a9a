#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# The key verbs through the real binary against vauth: devices (text and
# --json, a missing key), pin status|set|change (PINs from the
# environment only; wrong PIN with retries left), reset, and that a
# process holding a PIN cannot dump core.

# shellcheck source=test_webauthn_common.sh
. "$(dirname "$0")/test_webauthn_common.sh"

expect() { grep -Eq -- "$2" "$1" || fail "$3: no /$2/ in $1"; }

start_vauth k --aaguid 11111111-2222-3333-4444-555555555555
D="--device unix:$tmp/k.sock"

# shellcheck disable=SC2086
run 0 "$PROVISIONING" $D devices
expect "$tmp/out" "aaguid 11111111-2222-3333-4444-555555555555" "devices"
expect "$tmp/out" "versions FIDO_2_0 FIDO_2_1" "devices"
expect "$tmp/out" "PIN not set" "devices"
# shellcheck disable=SC2086
run 0 "$PROVISIONING" $D --json devices
[ "$(json_get "$tmp/out" 'd[0]["usable"] and d[0]["pin_set"] == False')" = True ] ||
    fail "devices --json"
run 4 "$PROVISIONING" --device "unix:$tmp/absent.sock" devices
expect "$tmp/out" "no security key found at that path" "missing key"

# set: never from argv; the environment variable named
# shellcheck disable=SC2086
run 2 "$PROVISIONING" $D pin set --pin-env NOT_SET_ANYWHERE
expect "$tmp/err" "NOT_SET_ANYWHERE.*is not set" "unset variable"
# shellcheck disable=SC2086
NEWPIN=123 run 2 "$PROVISIONING" $D pin set --pin-env NEWPIN
expect "$tmp/err" "breaks the key's rules" "short PIN refused"
# shellcheck disable=SC2086
NEWPIN=58213947 run 0 "$PROVISIONING" $D pin set --pin-env NEWPIN
# shellcheck disable=SC2086
run 0 "$PROVISIONING" $D pin status
expect "$tmp/out" "PIN set, 8 retries left" "status"
# shellcheck disable=SC2086
OLD=00000000 NEWPIN=69284715 run 4 "$PROVISIONING" $D pin change \
    --old-pin-env OLD --pin-env NEWPIN
expect "$tmp/err" "wrong PIN \(7 retries left" "wrong PIN"
# shellcheck disable=SC2086
OLD=58213947 NEWPIN=69284715 run 0 "$PROVISIONING" $D pin change \
    --old-pin-env OLD --pin-env NEWPIN
for f in "$tmp/out" "$tmp/err"; do
	grep -q "58213947\|69284715" "$f" && fail "a PIN was printed"
done

# a process that holds the PIN while it waits for a touch: no core file
start_vauth slow --pin 58213947 --presence delay:4000
make_options "$tmp/opts.json"
PIN=58213947 "$PROVISIONING" --device "unix:$tmp/slow.sock" webauthn \
    create --options "$tmp/opts.json" --pin-env PIN >/dev/null 2>&1 &
pid=$!
sleep 1
grep -Eq "^Max core file size +0 +0" "/proc/$pid/limits" ||
    fail "core dumps are allowed: $(grep core "/proc/$pid/limits")"
kill -INT "$pid"
wait "$pid" && fail "Ctrl+C did not stop the touch wait"

# reset: needs --yes, then the PIN is gone
# shellcheck disable=SC2086
run 2 "$PROVISIONING" $D reset
expect "$tmp/err" "add --yes" "reset without --yes"
# shellcheck disable=SC2086
run 0 "$PROVISIONING" $D reset --yes
# shellcheck disable=SC2086
run 0 "$PROVISIONING" $D pin status
expect "$tmp/out" "no PIN set" "after reset"
echo "keys cli: all checks passed"
