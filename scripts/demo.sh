#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The demo: a bulk enrollment of a 25-user CSV (3 of them bad) onto
# three vauth virtual keys, against the local Graph emulator.  Prints
# the report and the failures.  Everything lives in a temporary
# directory, removed at the end (set KEEP=1 to keep it).
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
sh scripts/deps.sh
if [ ! -x build/src/cli/provisioning ] || [ ! -x build/vauth/vauth ]; then
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build build -j"$(nproc)" >/dev/null
fi
PROV=$top/build/src/cli/provisioning
VAUTH=$top/build/vauth/vauth
EMU=$top/tests/graph-emulator
work=$(mktemp -d /tmp/provisioning-demo.XXXXXX)

cleanup() {
	for p in "$work"/vauth*.pid; do
		[ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null || true
	done
	sh "$EMU/stop.sh" "$work/emu" >/dev/null 2>&1 || true
	if [ "${KEEP:-0}" = 1 ]; then
		echo "demo files kept in $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT INT TERM

echo "== starting the Graph emulator and three virtual keys"
port=$(sh "$EMU/start.sh" "$work/emu" "$EMU/configs/demo.json")
mkdir -p "$work/keys"
for i in 1 2 3; do
	"$VAUTH" --socket "$work/keys/key$i" --state "$work/key$i.state" \
	    --ca "$work/attestation-ca.pem" --presence delay:200 &
	echo $! >"$work/vauth$i.pid"
done
for i in 1 2 3; do
	n=0
	while [ ! -S "$work/keys/key$i" ] && [ $n -lt 100 ]; do
		sleep 0.1; n=$((n + 1))
	done
done

export PROVISIONING_AUTHORITY_URL="https://127.0.0.1:$port"
export PROVISIONING_GRAPH_URL="https://127.0.0.1:$port"
export PROVISIONING_TENANT=contoso.example
export PROVISIONING_STATE_DIR="$work/state"
export PROVISIONING_VIRTUAL_KEYS="$work/keys"
G="--ca-bundle $work/emu/ca.pem"
client=$(/usr/bin/python3 -c 'import json,sys; c=[c for c in json.load(open(sys.argv[1]))["clients"] if c.get("secret")][0]; print(c["client_id"])' "$EMU/configs/demo.json")
PROVISIONING_CLIENT_SECRET=$(/usr/bin/python3 -c 'import json,sys; c=[c for c in json.load(open(sys.argv[1]))["clients"] if c.get("secret")][0]; print(c["secret"])' "$EMU/configs/demo.json")
export PROVISIONING_CLIENT_SECRET

echo "== provisioning login --client-credentials"
# shellcheck disable=SC2086
"$PROV" $G --client-id "$client" login --client-credentials
unset PROVISIONING_CLIENT_SECRET

echo "== provisioning devices"
# shellcheck disable=SC2086
"$PROV" $G devices | grep -v '^  '

echo "== provisioning enroll --csv demo-users.csv --parallel --pin random"
cd "$work"
set +e
# shellcheck disable=SC2086
"$PROV" $G --client-id "$client" enroll --csv "$EMU/configs/demo-users.csv" \
    --parallel --pin random --pins-out "$work/pins.csv" \
    --report "$work/report.csv" --failures "$work/failures.csv"
rc=$?
set -e

echo
table() {
	# a compact view; the files themselves hold the full ids
	/usr/bin/python3 - "$@" <<'PY'
import csv, sys
kind, path = sys.argv[1], sys.argv[2]
with open(path, newline="") as f:
    rows = list(csv.DictReader(f))
def cell(v, n=48):
    v = v[1:] if v[:1] == "'" else v
    return v if len(v) <= n else v[:n - 3] + "..."
if kind == "report":
    head = ("user", "key", "attestation", "method")
    body = [(r["user"], r["device"].rsplit("/", 1)[-1],
             r["attestation_level"], r["method_id"][:8] + "...")
            for r in rows]
else:
    head = ("user", "stage", "reason")
    body = [(r["user"], r["stage"], r["message"]) for r in rows]
body = [tuple(cell(c, 72 if i == len(r) - 1 else 48)
              for i, c in enumerate(r)) for r in body]
w = [max(len(x) for x in col) for col in zip(head, *body)]
for r in [head] + body:
    print("  ".join(c.ljust(n) for c, n in zip(r, w)).rstrip())
print("(%d row%s)" % (len(body), "" if len(body) == 1 else "s"))
PY
}

echo
echo "== report.csv (one row per enrolled user; full ids in the file)"
table report "$work/report.csv"
echo
echo "== failures.csv"
table failures "$work/failures.csv"
echo
echo "== pins.csv is $(stat -c %a "$work/pins.csv") and holds $(($(wc -l <"$work/pins.csv") - 1)) key PINs (not shown)"
echo "exit status $rc (1 = some users failed, as expected: see failures)"
