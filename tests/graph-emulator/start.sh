#!/bin/sh
# Start the Graph emulator in the background and print its port.
# usage: start.sh DIR CONFIG [extra emulator.py args...]
# Leaves DIR/pid, DIR/port, DIR/emulator.out; stop it with stop.sh DIR.
set -eu
if [ $# -lt 2 ]; then
	echo "usage: $0 DIR CONFIG [--latency MS] [--fault SPEC]... [--log FILE]" >&2
	exit 2
fi
dir=$1
config=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON3:-/usr/bin/python3}
mkdir -p "$dir"
rm -f "$dir/port"
"$python" "$here/emulator.py" --config "$config" --dir "$dir" "$@" \
	>"$dir/emulator.out" 2>&1 </dev/null &
echo $! >"$dir/pid"
i=0
while [ ! -s "$dir/port" ]; do
	if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
		echo "$0: emulator exited; see $dir/emulator.out" >&2
		cat "$dir/emulator.out" >&2
		exit 1
	fi
	i=$((i + 1))
	if [ $i -gt 150 ]; then
		echo "$0: emulator did not start within 15 s" >&2
		kill "$(cat "$dir/pid")" 2>/dev/null || true
		exit 1
	fi
	sleep 0.1
done
cat "$dir/port"
