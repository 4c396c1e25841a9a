#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# Option parsing of every verb and sub-verb, through the real binary:
#   --help and -h     exit 0, the usage on stdout, nothing on stderr
#   --no-such-option  exit 2, names the option and the verb's --help
#   --opt (no value)  exit 2, "option '--opt' needs a value (WHAT)"
#   --opt=value       accepted: the run gets past the options and fails
#                     later (no sign-in, no key, no file), never with a
#                     usage error
# plus abbreviations, numbers out of range, operand counts and the
# global options.  No key and no network: a private state directory,
# and the sign-in and Graph hosts point at 127.0.0.1:9.
#
# ctest sets SRCDIR, BINDIR and PROVISIONING.

set -eu

: "${SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${BINDIR:=$SRCDIR/build}"
: "${PROVISIONING:=$BINDIR/src/cli/provisioning}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cli-options.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/home" "$tmp/nokeys"
HOME="$tmp/home"
XDG_STATE_HOME="$tmp/home/state"
XDG_DATA_HOME="$tmp/home/data"
XDG_CONFIG_HOME="$tmp/home/config"
PROVISIONING_STATE_DIR="$tmp/state"
PROVISIONING_AUTHORITY_URL=https://127.0.0.1:9
PROVISIONING_GRAPH_URL=https://127.0.0.1:9
PROVISIONING_TENANT=contoso.example
PROVISIONING_VIRTUAL_KEYS="$tmp/nokeys"
export HOME XDG_STATE_HOME XDG_DATA_HOME XDG_CONFIG_HOME
export PROVISIONING_STATE_DIR PROVISIONING_AUTHORITY_URL
export PROVISIONING_GRAPH_URL PROVISIONING_TENANT PROVISIONING_VIRTUAL_KEYS
unset PROVISIONING_CLIENT_SECRET PROVISIONING_GROUP BROWSER || true
NOKEY="--device=unix:$tmp/no-such-key.sock"

failures=0
checks=0

bad()
{
	echo "FAIL: $*" >&2
	echo "--- stdout:" >&2
	cat "$tmp/out" >&2
	echo "--- stderr:" >&2
	cat "$tmp/err" >&2
	failures=$((failures + 1))
}

# run CMD...: $rc, stdout in $tmp/out, stderr in $tmp/err; 30 s at most,
# no terminal input
run()
{
	checks=$((checks + 1))
	rc=0
	timeout -k 5 30 "$PROVISIONING" "$@" </dev/null >"$tmp/out" \
	    2>"$tmp/err" || rc=$?
}

# has FILE TEXT: FILE contains TEXT (fixed string)
has()
{
	grep -qF -- "$2" "$1"
}

# help VERB...: --help and -h print the usage on stdout, exit 0
help()
{
	for h in --help -h; do
		# shellcheck disable=SC2086
		run $1 "$h"
		if [ "$rc" -ne 0 ]; then
			bad "'$1 $h' exited $rc, want 0"
		elif ! has "$tmp/out" "usage:" ||
		    ! has "$tmp/out" "provisioning"; then
			bad "'$1 $h': no usage on stdout"
		elif [ -s "$tmp/err" ]; then
			bad "'$1 $h': something on stderr"
		fi
	done
}

# usage_err VERB WHAT ARGS...: exit 2, WHAT on stderr, and a pointer to
# "provisioning VERB --help"; nothing on stdout
usage_err()
{
	v=$1
	what=$2
	shift 2
	run "$@"
	if [ "$rc" -ne 2 ]; then
		bad "'$*' exited $rc, want 2"
	elif ! has "$tmp/err" "$what"; then
		bad "'$*': no \"$what\" on stderr"
	elif ! has "$tmp/err" "see 'provisioning${v:+ }$v --help'"; then
		bad "'$*': does not point to 'provisioning $v --help'"
	elif [ -s "$tmp/out" ]; then
		bad "'$*': something on stdout"
	fi
}

# unknown VERB...: an unknown option, alone and as --opt=value
unknown()
{
	# shellcheck disable=SC2086
	usage_err "$1" "unknown option '--no-such-option'" $1 \
	    --no-such-option
	# shellcheck disable=SC2086
	usage_err "$1" "unknown option '--no-such-option'" $1 \
	    --no-such-option=1
}

# needs VERB (VAR) OPTION...: each OPTION without its value, last on the
# line, then followed by --help, which is not a value
needs()
{
	v=$1
	shift
	for o in "$@"; do
		# shellcheck disable=SC2086
		usage_err "$v" "option '--$o' needs a value (" $v "--$o"
		# shellcheck disable=SC2086
		usage_err "$v" "option '--$o' needs a value (" $v "--$o" --help
		# shellcheck disable=SC2086
		usage_err "$v" "option '--$o' needs a value (" $v "--$o="
	done
}

# accepted WANT_RC MARKER CMD...: the options were taken: exit WANT_RC,
# MARKER (if not empty) on stderr, and no usage error (every usage
# error points to a --help)
accepted()
{
	want=$1
	marker=$2
	shift 2
	run "$@"
	if [ "$rc" -ne "$want" ]; then
		bad "'$*' exited $rc, want $want"
	elif [ -n "$marker" ] && ! has "$tmp/err" "$marker"; then
		bad "'$*': no \"$marker\" on stderr"
	elif has "$tmp/err" "see 'provisioning"; then
		bad "'$*': a usage error"
	fi
}

# --- every verb and sub-verb ---------------------------------------------

for v in login logout whoami devices pin "pin status" "pin set" \
    "pin change" reset enroll auto kiosk list remove doctor webauthn \
    "webauthn create" "webauthn verify" deeplink "deeplink register" \
    "deeplink unregister" "deeplink handle"; do
	help "$v"
	unknown "$v"
done
# a sub-verb's own help, not the parent's
run pin set --help
has "$tmp/out" "--pin-env" || bad "pin set --help does not show --pin-env"
has "$tmp/out" "pin change" && bad "pin set --help shows pin change"
run webauthn verify --help
has "$tmp/out" "--body" || bad "webauthn verify --help does not show --body"

needs login login-hint client-secret-file certificate private-key scopes \
    session-hours
needs "pin set" pin-env
needs "pin change" pin-env old-pin-env
for v in enroll auto kiosk; do
	needs "$v" csv group pin pin-env pin-length min-pin-length \
	    display-name report failures pins-out timeout challenge-timeout
done
needs auto interval rounds
needs kiosk interval rounds
needs "webauthn create" options pin-env display-name timeout
needs "webauthn verify" options body

# --- --opt=value is taken ---------------------------------------------------

printf 'not a secret\n' >"$tmp/secret"
chmod 600 "$tmp/secret"
accepted 2 "cannot read $tmp/absent.pem" login --session-hours=24 \
    --scopes=+User.Read --login-hint=admin@contoso.example \
    --certificate="$tmp/absent.pem" --private-key="$tmp/absent.key"
accepted 2 "cannot read $tmp/absent" login --client-secret-file="$tmp/absent"
accepted 0 "" logout --all
accepted 3 "not signed in" whoami
accepted 4 "" "$NOKEY" devices
accepted 4 "no security key found" "$NOKEY" pin status
accepted 4 "no security key found" "$NOKEY" pin set --pin-env=UNSET_PIN
accepted 4 "no security key found" "$NOKEY" pin change \
    --old-pin-env=UNSET_OLD --pin-env=UNSET_NEW
accepted 4 "no security key found" "$NOKEY" reset --yes
accepted 3 "not signed in" enroll --pin=random --pins-out="$tmp/pins.csv" \
    --pin-length=10 --min-pin-length=6 --display-name='{upn}' \
    --report="$tmp/report.csv" --failures="$tmp/failures.csv" \
    --timeout=30 --challenge-timeout=10 --dry-run alice@contoso.example
# options after the users, too
accepted 3 "not signed in" enroll alice@contoso.example --pin=keep \
    --pin-env=KEYPIN
accepted 2 "$tmp/absent.csv" enroll --csv="$tmp/absent.csv"
accepted 3 "not signed in" enroll --group=Pilot
accepted 3 "not signed in" auto --group=Pilot --interval=1 --rounds=1
accepted 3 "not signed in" kiosk --group=Pilot --interval=1 --rounds=1 \
    --pin=ask
accepted 3 "not signed in" list alice@contoso.example
accepted 3 "" doctor alice@contoso.example
# a method id may start with '-'
accepted 3 "not signed in" remove alice@contoso.example -2_GRUg2-HYz6_1YG4YR
accepted 3 "not signed in" remove alice@contoso.example -- -2_GRUg2-HYz6
accepted 2 "cannot read creationOptions $tmp/absent.json" webauthn create \
    --options="$tmp/absent.json" --pin-env=PIN --display-name='{upn}' \
    --timeout=30 --attestation-none --no-self-check
accepted 2 "cannot read creationOptions $tmp/absent.json" webauthn verify \
    --options="$tmp/absent.json" --body="$tmp/absent-body.json"
accepted 2 "refusing the link" deeplink handle 'entra-provision://enroll?x=1'

# --- values and operands ----------------------------------------------------

usage_err login "did you mean '--session-hours'" login --sess=24
usage_err login "--session-hours" login --session-hours=0
usage_err login "--session-hours" login --session-hours=12h
usage_err login "option '--browser' takes no value" login --browser=yes
usage_err login "PROVISIONING_CLIENT_SECRET" login --client-secret=s3cr3t
has "$tmp/err" "s3cr3t" && bad "the secret was echoed"
usage_err login "takes no arguments" login extra
usage_err logout "option '--all' takes no value" logout --all=1
usage_err whoami "takes no arguments" whoami extra
usage_err devices "unknown option '-x'" devices -x
usage_err "pin set" "unknown option '--old-pin-env'" pin set \
    --old-pin-env=OLD
usage_err "pin set" "takes no arguments" pin set 123456
has "$tmp/err" "123456" && bad "a PIN on argv was echoed"
usage_err pin "expected status, set or change" pin
usage_err pin "not 'frob'" pin frob
usage_err reset "takes no arguments" reset now
usage_err enroll "option '--csv' needs a value (FILE)" enroll --csv \
    --dry-run
usage_err enroll "--pin-length" enroll --pin-length=5 alice@contoso.example
usage_err enroll "--timeout" enroll --timeout=abc alice@contoso.example
usage_err enroll "--pin: expected random, ask or keep" enroll --pin=never \
    alice@contoso.example
usage_err enroll "--rounds is for auto and kiosk" enroll --rounds=1 \
    alice@contoso.example
usage_err enroll "missing USER" enroll
usage_err auto "--rounds" auto --group=Pilot --rounds=0
usage_err auto "--interval" auto --group=Pilot --interval=-1
usage_err list "missing USER" list
usage_err list "too many arguments" list a b
usage_err remove "missing USER METHOD_ID" remove alice@contoso.example
usage_err doctor "too many arguments" doctor a b
usage_err webauthn "expected create or verify" webauthn
usage_err "webauthn create" "missing --options" webauthn create
usage_err "webauthn create" "--timeout" webauthn create --options=x \
    --timeout=0
usage_err "webauthn verify" "missing --body" webauthn verify --options=x
usage_err deeplink "not 'frob'" deeplink frob
usage_err "deeplink register" "takes no arguments" deeplink register x
usage_err "deeplink handle" "missing URL" deeplink handle

# --- global options and the seed's spellings --------------------------------

usage_err "" "option '--tenant' needs a value (ID|DOMAIN)" --tenant
usage_err "" "option '--state-dir' needs a value (DIR)" --state-dir --json \
    whoami
usage_err "" "unknown option '--no-such-option'" --no-such-option=x whoami
usage_err "" "--cloud: expected" --cloud=mars whoami
usage_err enroll "option '--csv' needs a value (FILE)" --csv
accepted 2 "$tmp/absent.csv" --csv "$tmp/absent.csv" --mode headful \
    --verbose
accepted 3 "not signed in" --tenant=contoso.example --graph-version=beta \
    whoami
run --help
if [ "$rc" -ne 0 ] || ! has "$tmp/out" "usage:" || [ -s "$tmp/err" ]; then
	bad "--help"
fi
run --version
if [ "$rc" -ne 0 ] || ! has "$tmp/out" "provisioning "; then
	bad "--version"
fi

# --- unknown commands and 'help' ------------------------------------------

usage_err enroll "unknown command 'enrol' (did you mean 'enroll'?)" enrol
usage_err list "unknown command 'lsit' (did you mean 'list'?)" lsit
usage_err kiosk "(did you mean 'kiosk'?)" kisok
usage_err doctor "(did you mean 'doctor'?)" doc
usage_err "" "unknown command 'frobnicate'" frobnicate
usage_err help "no command 'enrol' (did you mean 'enroll'?)" help enrol
help help
run help
if [ "$rc" -ne 0 ] || ! has "$tmp/out" "commands:" || [ -s "$tmp/err" ]; then
	bad "'help' without a command: want the overview on stdout"
fi
for v in enroll pin webauthn deeplink login; do
	run help "$v"
	run "$v" --help
	cp "$tmp/out" "$tmp/want"
	run help "$v"
	if [ "$rc" -ne 0 ] || ! cmp -s "$tmp/out" "$tmp/want"; then
		bad "'help $v' is not '$v --help'"
	fi
done

# --- a missing sign-in is said once, before any output file exists ---------

mkdir -p "$tmp/cwd"
for v in "enroll alice@contoso.example" "enroll --csv=$tmp/users.csv" \
    doctor whoami; do
	printf 'upn\nalice@contoso.example\n' >"$tmp/users.csv"
	# shellcheck disable=SC2086
	(cd "$tmp/cwd" && run $v && echo "$rc" >"$tmp/rc")
	rc=$(cat "$tmp/rc")
	checks=$((checks + 1))
	n=$(grep -c "provisioning login" "$tmp/err" "$tmp/out" |
	    awk -F: '{ s += $2 } END { print s }')
	if [ "$rc" -ne 3 ] || [ "$n" -ne 1 ]; then
		bad "'$v' without a sign-in: exit $rc, 'provisioning login'" \
		    "said $n times (want exit 3, once)"
	elif [ -n "$(ls -A "$tmp/cwd")" ]; then
		bad "'$v' without a sign-in left $(ls -A "$tmp/cwd")"
	fi
done

if [ "$failures" -ne 0 ]; then
	echo "cli options: $failures of $checks checks failed" >&2
	exit 1
fi
echo "cli options: all $checks checks passed"
