#!/bin/sh
# Stop an emulator started by start.sh DIR (SIGTERM, then SIGKILL after 5 s).
# usage: stop.sh DIR
set -eu
if [ $# -ne 1 ]; then
	echo "usage: $0 DIR" >&2
	exit 2
fi
pidfile=$1/pid
[ -f "$pidfile" ] || exit 0
pid=$(cat "$pidfile")
if kill -TERM "$pid" 2>/dev/null; then
	i=0
	while kill -0 "$pid" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 50 ]; then
			kill -KILL "$pid" 2>/dev/null || true
			break
		fi
		sleep 0.1
	done
fi
rm -f "$pidfile"
