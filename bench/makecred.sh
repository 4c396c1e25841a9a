#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# makeCredential round trips per second against one vauth (presence
# auto, PIN set, Entra-shaped request), with and without the
# getAssertion check.  Each mode gets a fresh vauth.  Prints figures;
# never fails on time.
#
#   sh bench/makecred.sh [N]          N round trips per mode (200)
#   BUILD=dir   build directory (build-bench; configured RelWithDebInfo
#               and built if the binaries are missing)
#   VAUTH_ARGS  extra vauth options, e.g. "--presence delay:200"
#   STATE=1     give vauth a --state file (adds its file rewrites)
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
BUILD=${BUILD:-build-bench}
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
N=${1:-${N:-200}}
if [ ! -x "$BUILD/bench/bench_makecred" ] ||
    [ ! -x "$BUILD/vauth/vauth" ]; then
	cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$BUILD" -j"$(nproc)" --target vauth bench_makecred \
	    >/dev/null
fi
VAUTH=$BUILD/vauth/vauth
BENCH=$BUILD/bench/bench_makecred
work=$(mktemp -d /tmp/bench-makecred.XXXXXX)
vpid=

stop_vauth() {
	if [ -n "$vpid" ]; then
		kill "$vpid" 2>/dev/null || true
		wait "$vpid" 2>/dev/null || true
		vpid=
	fi
}
cleanup() {
	stop_vauth
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

echo "# $(date -u '+%Y-%m-%dT%H:%M:%SZ') $(uname -n): nproc $(nproc)," \
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "# load average: $(cut -d" " -f1-3 /proc/loadavg)"
echo "# build: $BUILD ($(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' \
    "$BUILD/CMakeCache.txt" 2>/dev/null))"

for mode in verify noverify; do
	rm -f "$work/key" "$work/key.state"
	extra=${VAUTH_ARGS:-}
	if [ "${STATE:-0}" = 1 ]; then
		extra="$extra --state $work/key.state"
	fi
	# shellcheck disable=SC2086
	set -- "$VAUTH" --socket "$work/key" --ca "$work/ca.pem" \
	    --presence auto --max-creds 1000 $extra
	echo "\$ $*"
	"$@" &
	vpid=$!
	n=0
	while [ ! -S "$work/key" ] && [ $n -lt 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	set -- "$BENCH" --device "unix:$work/key" -n "$N" --vauth-pid "$vpid"
	if [ "$mode" = noverify ]; then
		set -- "$@" --no-verify-equivalent
	fi
	echo "\$ $*"
	"$@" || echo "(bench_makecred failed: exit $?)"
	stop_vauth
	echo
done
