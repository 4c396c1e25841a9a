#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Seed compatibility: every command line the IDmelon provisioning tool
# documented (seed/idmelon-entra-provisioning-tool.txt) still works,
# spelled exactly as it was, with the real binary against the Graph
# emulator and vauth keys:
#
#   --version                         prints the version, exit 0
#   --login                           browser sign-in ($BROWSER follows
#                                     the redirect to our loopback)
#   --csv users.csv --mode headful --verbose
#                                     enrolls, at a terminal (a pty
#                                     types the PIN and the Enters)
#   --csv ... --mode headful --pin-env VAR, no terminal
#                                     enrolls without blocking
#   --csv users.csv                   enrolls, at a terminal
#   --csv users.csv --verbose --disable-ssl-verify
#                                     warns on every run, and works
#   --csv users.csv --mode headful --verbose --local-ssl-verify
#                                     the test CA is not in the OS
#                                     store: TLS error naming --ca-bundle
#   --automatic-provision (PROVISIONING_GROUP, --rounds 1)
#                                     enrolls the group's members
#   --register-deeplink               writes the desktop entry, runs
#                                     xdg-mime
#
# usage: test_seed_compat.sh [SECTION...]
# The default runs every section but the strict_* ones, which check
# behaviour the tool does not have yet (see the end of the file).
#
# ctest sets SRCDIR, BINDIR, PYTHON3, PROVISIONING and VAUTH.

set -eu

: "${SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${BINDIR:=$SRCDIR/build}"
: "${PYTHON3:=/usr/bin/python3}"
: "${PROVISIONING:=$BINDIR/src/cli/provisioning}"
: "${VAUTH:=$BINDIR/vauth/vauth}"
EMU="$SRCDIR/tests/graph-emulator"
# a PIN that appears nowhere else, so a leak is found by grep
PIN=73519046
WARN='--disable-ssl-verify: TLS certificates are NOT checked'

tmp=$(mktemp -d "${TMPDIR:-/tmp}/seed-compat.XXXXXX")
vauth_pids=""
emu_started=0

cleanup()
{
	local p

	for p in $vauth_pids; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [ "$emu_started" = 1 ]; then
		sh "$EMU/stop.sh" "$tmp/emu" >/dev/null 2>&1 || true
	fi
	if [ "${KEEP:-0}" = 1 ]; then
		echo "kept $tmp" >&2
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT

fail()
{
	echo "FAIL: $*" >&2
	if [ -s "$tmp/out" ]; then
		echo "--- last output:" >&2
		tail -n 40 "$tmp/out" >&2
	fi
	exit 1
}

ok()
{
	echo "ok: $*"
}

# expect FILE REGEX WHAT: FILE must match (grep -E)
expect()
{
	grep -Eq -- "$2" "$1" || fail "$3: no /$2/ in the output"
}

# refuse FILE REGEX WHAT: FILE must not match
refuse()
{
	if grep -Eq -- "$2" "$1"; then
		fail "$3: /$2/ in the output"
	fi
}

# run WANT CMD...: no terminal (setsid), stdin /dev/null, 60 s at most;
# stdout and stderr to $tmp/out
run()
{
	local want=$1 rc=0

	shift
	timeout -k 5 60 setsid -w "$@" </dev/null >"$tmp/out" 2>&1 || rc=$?
	[ "$rc" -ne 124 ] || fail "blocked (killed after 60 s): $*"
	[ "$rc" -eq "$want" ] || fail "exit $rc, want $want: $*"
}

# run_tty WANT CMD...: at a terminal (a pty), as an operator would run
# it: types $PIN at each PIN prompt and Enter at each headful pause.
# The transcript (stdout and stderr, as on a screen) goes to $tmp/out.
run_tty()
{
	local want=$1 rc=0

	shift
	PIN="$PIN" "$PYTHON3" - "$tmp/out" "$@" <<'PY' || rc=$?
import os, pty, re, select, signal, sys, time

log, argv = sys.argv[1], sys.argv[2:]
pin = os.environ["PIN"].encode()
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
prompts = [(re.compile(rb"PIN for the key at [^\r\n]*: $"), pin + b"\n"),
           (re.compile(rb"Repeat the PIN: $"), pin + b"\n"),
           (re.compile(rb"Press Enter to go on[^\r\n]*$"), b"\n")]
seen, buf, status = b"", b"", None
deadline = time.monotonic() + 60
while True:
    left = deadline - time.monotonic()
    if left <= 0:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        status = 124
        break
    r, _, _ = select.select([fd], [], [], min(left, 0.2))
    if r:
        try:
            data = os.read(fd, 4096)
        except OSError:
            data = b""
        if not data:
            status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
            break
        seen += data
        buf += data
        for rx, answer in prompts:
            if rx.search(buf):
                os.write(fd, answer)
                buf = b""
                break
with open(log, "wb") as f:
    f.write(seen.replace(b"\r\n", b"\n"))
sys.exit(status if status >= 0 else 128 - status)
PY
	[ "$rc" -ne 124 ] || fail "blocked (killed after 60 s): $*"
	[ "$rc" -eq "$want" ] || fail "exit $rc, want $want: $*"
}

# start_vauth NAME: a key with PIN $PIN at $tmp/keys/NAME (or NAME as
# a path), its state and attestation root in $tmp
start_vauth()
{
	local sock=$1 n=0

	case $sock in
	/*) ;;
	*) sock="$tmp/keys/$sock" ;;
	esac
	mkdir -p "$(dirname "$sock")"
	VAUTH_PIN=$PIN "$VAUTH" --socket "$sock" --state "$sock.state" \
	    --ca "$tmp/attestation-ca.pem" 2>>"$tmp/vauth.log" &
	vauth_pids="$vauth_pids $!"
	while [ ! -S "$sock" ]; do
		n=$((n + 1))
		[ $n -lt 200 ] || fail "vauth did not create $sock"
		sleep 0.05
	done
}

# a fresh set of N keys in $tmp/keys (one key per user is the default)
fresh_keys()
{
	local i p

	for p in $vauth_pids; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	vauth_pids=""
	rm -rf "$tmp/keys"
	for i in $(seq 1 "$1"); do
		start_vauth "key$i"
	done
}

emu_start()
{
	[ "$emu_started" = 0 ] || return 0
	port=$(sh "$EMU/start.sh" "$tmp/emu" "$EMU/configs/basic.json") ||
	    fail "the Graph emulator did not start"
	emu_started=1
	CA="$tmp/emu/ca.pem"
	# the binary with the emulator's CA trusted: the seed's spellings
	# never name a CA, and the test CA is not in the OS store
	P=("$PROVISIONING" --ca-bundle "$CA")
	EMU_URL="https://127.0.0.1:$port"
	export PROVISIONING_AUTHORITY_URL="$EMU_URL"
	export PROVISIONING_GRAPH_URL="$EMU_URL"
	export PROVISIONING_TENANT=contoso.example
	export PROVISIONING_STATE_DIR="$tmp/state"
	export PROVISIONING_VIRTUAL_KEYS="$tmp/keys"
	# the stand-in browser trusts the emulator's CA (an option: the
	# browser's environment is scrubbed)
	export BROWSER="$PYTHON3 $SRCDIR/tests/graph/browser.py --ca $CA"
	unset PROVISIONING_CLIENT_SECRET PROVISIONING_GROUP
}

# emu_post PATH JSON: the control API
emu_post()
{
	curl -fsS --cacert "$CA" -H 'Content-Type: application/json' \
	    -d "$2" "$EMU_URL$1" >/dev/null || fail "POST $1"
}

# emu_state EXPR: a value computed from GET /_emu/state (`d`; `u(upn)`
# is a user, `methods(upn)` their fido2Methods)
emu_state()
{
	curl -fsS --cacert "$CA" "$EMU_URL/_emu/state" >"$tmp/state.json" ||
	    fail "GET /_emu/state"
	"$PYTHON3" - "$tmp/state.json" "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
def u(upn):
    for x in d["users"]:
        if x["userPrincipalName"].lower() == upn.lower():
            return x
    raise SystemExit("no user " + upn)
def methods(upn):
    return u(upn).get("fido2Methods", [])
print(eval(sys.argv[2]))
PY
}

# add_user UPN [GROUP]: a plain member user in the emulated tenant
add_user()
{
	local groups='[]'

	[ $# -lt 2 ] || groups="[\"$2\"]"
	emu_post /_emu/users "{\"userPrincipalName\": \"$1\",
	    \"displayName\": \"$1\", \"groups\": $groups}"
}

# the seed's `users.csv`, as the IDmelon panel exported it (CRLF)
write_csv()
{
	local f=$1 u

	shift
	printf 'displayName,userPrincipalName\r\n' >"$f"
	for u in "$@"; do
		printf '%s,%s\r\n' "${u%%@*}" "$u" >>"$f"
	done
}


# --- the sections ------------------------------------------------------

t_version()
{
	local want

	want=$(sed -n 's/^project([^)]*VERSION \([0-9.]*\).*/\1/p' \
	    "$SRCDIR/CMakeLists.txt" | head -n 1)
	run 0 "$PROVISIONING" --version
	expect "$tmp/out" "^provisioning ${want:-[0-9]+\.[0-9]+\.[0-9]+}\$" \
	    "--version"
	[ "$(wc -l <"$tmp/out")" -eq 1 ] || fail "--version: one line"
	# the seed's users appended it to other options too
	run 0 "$PROVISIONING" --csv users.csv --version
	expect "$tmp/out" "^provisioning [0-9]" "--csv FILE --version"
	ok "--version"
}

t_login()
{
	local before after

	emu_start
	before=$(emu_state 'd["tokens"]["by_grant"].get("authorization_code", 0)')
	run 0 "${P[@]}" --login
	expect "$tmp/out" "Opening the browser to sign in" "--login"
	expect "$tmp/out" "Signed in as admin@contoso\.example \(delegated\)" \
	    "--login"
	after=$(emu_state 'd["tokens"]["by_grant"].get("authorization_code", 0)')
	[ "$after" -eq $((before + 1)) ] ||
	    fail "--login: no authorization code redeemed ($before -> $after)"
	[ -f "$PROVISIONING_STATE_DIR/tokens.json" ] ||
	    fail "--login: no token cache"
	[ "$(stat -c %a "$PROVISIONING_STATE_DIR/tokens.json")" = 600 ] ||
	    fail "--login: token cache is not 0600"
	run 0 "${P[@]}" whoami
	expect "$tmp/out" "^account: +admin@contoso\.example" "whoami"
	ok "--login (browser, PKCE, loopback redirect)"
}

need_login()
{
	emu_start
	[ -f "$PROVISIONING_STATE_DIR/tokens.json" ] || t_login
}

# check_enrolled UPN...: exactly one passkey each, made by this tool
check_enrolled()
{
	local u n

	for u in "$@"; do
		n=$(emu_state "len(methods('$u'))")
		[ "$n" -eq 1 ] || fail "$u has $n passkeys, want 1"
		grep -q "^[^,]*,$u," "$tmp/work/report.csv" ||
		    fail "$u is not in report.csv"
	done
}

t_csv_headful()
{
	need_login
	add_user hf1@contoso.example
	add_user hf2@contoso.example
	mkdir -p "$tmp/work"
	cd "$tmp/work"
	rm -f report.csv failures.csv
	write_csv users.csv hf1@contoso.example hf2@contoso.example
	fresh_keys 2
	run_tty 0 "${P[@]}" --csv users.csv --mode headful --verbose
	check_enrolled hf1@contoso.example hf2@contoso.example
	expect "$tmp/out" "Current PIN for the key at unix:" "headful PIN"
	expect "$tmp/out" "using key unix:.*/keys/key[12]" "headful narration"
	expect "$tmp/out" "Press Enter to go on with the next user" \
	    "headful pause"
	expect "$tmp/out" "2 enrolled, 0 failed, 0 skipped, of 2 users" \
	    "summary"
	refuse "$tmp/out" "$PIN" "the PIN was printed"
	refuse report.csv "$PIN" "the PIN is in the report"
	ok "--csv users.csv --mode headful --verbose (at a terminal)"

	# no terminal at all (a scheduled job): the PIN from the
	# environment, and the headful pauses must not wait for anyone;
	# `--mode headful` alone narrates as --verbose does
	add_user hf3@contoso.example
	add_user hf4@contoso.example
	write_csv users2.csv hf3@contoso.example hf4@contoso.example
	fresh_keys 2
	KEYPIN=$PIN run 0 "${P[@]}" --csv users2.csv --mode headful \
	    --pin-env KEYPIN
	check_enrolled hf3@contoso.example hf4@contoso.example
	expect "$tmp/out" "^hf3@contoso\.example: touch the key unix:" \
	    "headful narration"
	expect "$tmp/out" "^\[[12]/2\] hf4@contoso\.example: enrolled on unix:[^ ]+ \(" \
	    "per-user line"
	expect "$tmp/out" "2 enrolled, 0 failed" "summary"
	refuse "$tmp/out" "Press Enter" "paused without a terminal"
	refuse "$tmp/out" "$PIN" "the PIN was printed"
	ok "--csv users2.csv --mode headful --pin-env (no terminal)"

	# the seed's plainest spelling, at a terminal
	add_user hf5@contoso.example
	write_csv users3.csv hf5@contoso.example
	fresh_keys 1
	run_tty 0 "${P[@]}" --csv users3.csv
	check_enrolled hf5@contoso.example
	refuse "$tmp/out" "Press Enter" "headless paused"
	ok "--csv users3.csv (at a terminal)"
}

t_csv_nossl()
{
	local n

	need_login
	add_user ns1@contoso.example
	mkdir -p "$tmp/work"
	cd "$tmp/work"
	rm -f report.csv failures.csv
	write_csv users.csv ns1@contoso.example
	fresh_keys 1
	# no --ca-bundle: only --disable-ssl-verify makes the emulator's
	# certificate acceptable
	run_tty 0 "$PROVISIONING" --csv users.csv --verbose \
	    --disable-ssl-verify
	expect "$tmp/out" "^warning: $WARN" "first run"
	check_enrolled ns1@contoso.example
	# every run warns; a re-run skips the enrolled user (journal)
	run_tty 0 "$PROVISIONING" --csv users.csv --verbose \
	    --disable-ssl-verify
	expect "$tmp/out" "^warning: $WARN" "second run"
	# (the summary counts a user the journal has as done as skipped)
	expect "$tmp/out" "0 enrolled, 0 failed, 1 skipped \(1 by an earlier run\), of 1 user([^s]|$)" \
	    "re-run"
	refuse "$tmp/out" "touch the key" "the re-run used a key"
	n=$(emu_state "len(methods('ns1@contoso.example'))")
	[ "$n" -eq 1 ] || fail "the re-run registered again ($n passkeys)"
	# the warning goes with the option, whatever the verb
	run 0 "$PROVISIONING" --disable-ssl-verify whoami
	expect "$tmp/out" "^warning: $WARN" "whoami"
	# and only with it
	run 0 "${P[@]}" whoami
	refuse "$tmp/out" "NOT checked" "whoami without the option"
	ok "--csv users.csv --verbose --disable-ssl-verify (warns every run)"
}

t_csv_localssl()
{
	local reg0 reg1

	need_login
	add_user ls1@contoso.example
	mkdir -p "$tmp/work"
	cd "$tmp/work"
	rm -f report.csv failures.csv
	write_csv users.csv ls1@contoso.example
	fresh_keys 1
	reg0=$(emu_state 'd["registrations"]')
	# the OS store does not hold the emulator's test CA: no user can
	# get further, so the run stops as a Graph/network failure
	run 5 "$PROVISIONING" --csv users.csv --mode headful --verbose \
	    --local-ssl-verify
	expect "$tmp/out" "ls1@contoso\.example: FAILED at resolve \(TLS error" \
	    "--local-ssl-verify"
	expect "$tmp/out" "pass its root with --ca-bundle FILE" \
	    "--local-ssl-verify"
	expect failures.csv "^[^,]+,ls1@contoso\.example,resolve,tls,.*TLS error.*--ca-bundle" \
	    "failures.csv"
	refuse "$tmp/out" "touch the key" "a key was used"
	reg1=$(emu_state 'd["registrations"]')
	[ "$reg1" -eq "$reg0" ] || fail "registered despite the TLS error"
	# a Graph call of its own: exit 5 and the same hint
	run 5 "$PROVISIONING" --local-ssl-verify list ls1@contoso.example
	expect "$tmp/out" "TLS error" "list"
	expect "$tmp/out" "hint: .*--ca-bundle FILE" "list"
	# --local-ssl-verify keeps --ca-bundle's roots
	run 0 "${P[@]}" --local-ssl-verify list ls1@contoso.example
	ok "--csv users.csv --mode headful --verbose --local-ssl-verify (TLS error)"
}

t_auto()
{
	local u n

	need_login
	add_user au1@contoso.example Pilot
	add_user au2@contoso.example Pilot
	mkdir -p "$tmp/work"
	cd "$tmp/work"
	rm -f report.csv failures.csv
	# Pilot: alice, bob (has passkeys), nested: dave, frank (disabled)
	for u in alice dave; do
		n=$(emu_state "len(methods('$u@contoso.example'))")
		[ "$n" -eq 0 ] || fail "$u has passkeys already"
	done
	fresh_keys 4
	PROVISIONING_GROUP=Pilot run_tty 0 "${P[@]}" --automatic-provision --rounds 1
	expect "$tmp/out" "4 enrolled, 0 failed, 0 skipped, of 4 users" \
	    "--automatic-provision"
	check_enrolled alice@contoso.example dave@contoso.example \
	    au1@contoso.example au2@contoso.example
	n=$(emu_state "len(methods('bob@contoso.example'))")
	[ "$n" -eq 3 ] || fail "bob (had 3 passkeys) has $n"
	n=$(emu_state "len(methods('frank@contoso.example'))")
	[ "$n" -eq 0 ] || fail "frank (disabled) got a passkey"
	# a later round: nobody left to enroll, nothing registered
	PROVISIONING_GROUP=Pilot run_tty 0 "${P[@]}" --automatic-provision --rounds 1
	refuse "$tmp/out" "enrolled, .* failed" "second round"
	n=$(emu_state "len(methods('alice@contoso.example'))")
	[ "$n" -eq 1 ] || fail "second round registered alice again"
	# without a group it says what it needs
	run 2 "${P[@]}" --automatic-provision --rounds 1
	expect "$tmp/out" "PROVISIONING_GROUP" "--automatic-provision alone"
	ok "--automatic-provision (PROVISIONING_GROUP=Pilot, --rounds 1)"
}

t_deeplink()
{
	local bin entry exe

	mkdir -p "$tmp/bin" "$tmp/xdg/data" "$tmp/xdg/config"
	cat >"$tmp/bin/xdg-mime" <<EOF
#!/bin/sh
echo "xdg-mime \$*" >>"$tmp/xdg/calls"
EOF
	cat >"$tmp/bin/update-desktop-database" <<EOF
#!/bin/sh
echo "update-desktop-database \$*" >>"$tmp/xdg/calls"
EOF
	chmod +x "$tmp/bin/xdg-mime" "$tmp/bin/update-desktop-database"
	bin=$(readlink -f "$PROVISIONING")
	entry="$tmp/xdg/data/applications/provisioning-deeplink.desktop"
	PATH="$tmp/bin:$PATH" XDG_DATA_HOME="$tmp/xdg/data" \
	    XDG_CONFIG_HOME="$tmp/xdg/config" \
	    run 0 "$PROVISIONING" --register-deeplink
	[ -f "$entry" ] || fail "no desktop entry at $entry"
	expect "$tmp/out" "^desktop entry: $entry\$" "--register-deeplink"
	expect "$tmp/out" "entra-provision:// links now open" \
	    "--register-deeplink"
	exe=$(sed -n 's/^Exec=//p' "$entry")
	case $exe in
	"$bin deeplink handle %u" | "\"$bin\" deeplink handle %u") ;;
	*) fail "Exec= is '$exe'" ;;
	esac
	expect "$entry" "^MimeType=x-scheme-handler/entra-provision;\$" \
	    "desktop entry"
	expect "$entry" "^Terminal=true\$" "desktop entry"
	expect "$tmp/xdg/calls" \
	    "^xdg-mime default provisioning-deeplink\.desktop x-scheme-handler/entra-provision\$" \
	    "xdg-mime"
	# without xdg-mime: the entry, and a warning saying what to do
	rm -f "$entry"
	run 0 env PATH="$tmp/nobin" XDG_DATA_HOME="$tmp/xdg/data" \
	    XDG_CONFIG_HOME="$tmp/xdg/config" "$PROVISIONING" \
	    --register-deeplink
	[ -f "$entry" ] || fail "no desktop entry without xdg-mime"
	expect "$tmp/out" "xdg-mime not found" "--register-deeplink"
	PATH="$tmp/bin:$PATH" XDG_DATA_HOME="$tmp/xdg/data" \
	    XDG_CONFIG_HOME="$tmp/xdg/config" \
	    run 0 "$PROVISIONING" deeplink unregister
	[ ! -e "$entry" ] || fail "deeplink unregister left $entry"
	ok "--register-deeplink"
}

# Behaviour the seed's users need beyond the documented spellings
# (`test_seed_compat.sh strict_notty` runs one).

# the exact seed spelling with no terminal must not wait for a key
# forever when it cannot ask for the PIN: the user fails, the run ends
t_strict_notty()
{
	need_login
	add_user st1@contoso.example
	mkdir -p "$tmp/work"
	cd "$tmp/work"
	write_csv strict.csv st1@contoso.example
	fresh_keys 1
	run 1 "${P[@]}" --csv strict.csv --mode headful --verbose
	expect "$tmp/out" "no terminal to ask for the PIN; use --pin-env" \
	    "no terminal"
	expect failures.csv ",st1@contoso\.example,.*--pin-env" "failures.csv"
	ok "no terminal: the run ends"
}

# every user failing on an untrusted certificate is a Graph/network
# failure (exit 5), as the same error is for every other command
t_strict_tls_exit()
{
	need_login
	add_user st2@contoso.example
	mkdir -p "$tmp/work"
	cd "$tmp/work"
	write_csv strict.csv st2@contoso.example
	fresh_keys 1
	run 5 "$PROVISIONING" --csv strict.csv --mode headful --verbose \
	    --local-ssl-verify
	expect "$tmp/out" "--ca-bundle" "--local-ssl-verify"
	ok "--csv --local-ssl-verify: exit 5"
}

# --login's TLS error names --ca-bundle, as the Graph calls' errors do
t_strict_login_tls()
{
	emu_start
	PROVISIONING_STATE_DIR="$tmp/state-strict" \
	    run 5 "$PROVISIONING" --login --local-ssl-verify
	expect "$tmp/out" "--ca-bundle" "--login --local-ssl-verify"
	refuse "$tmp/out" "TLS error \(certificate not trusted\?\): TLS error" \
	    "the error is said twice"
	ok "--login --local-ssl-verify: names --ca-bundle"
}

sections=${*:-version login csv_headful csv_nossl csv_localssl auto deeplink}
for s in $sections; do
	case $s in
	version | login | csv_headful | csv_nossl | csv_localssl | auto | \
	    deeplink | strict_notty | strict_tls_exit | strict_login_tls)
		"t_$s"
		;;
	*)
		echo "unknown section $s" >&2
		exit 2
		;;
	esac
done
echo "seed compatibility: all checks passed ($sections)"
