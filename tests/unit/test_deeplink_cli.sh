#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# `provisioning deeplink` end to end: register/unregister (and the
# seed's --register-deeplink) under a scratch XDG_DATA_HOME with a fake
# xdg-mime that records its arguments; `handle` refusing hostile links,
# links without a terminal, tenant conflicts, and anything but "yes".
# ctest sets SRCDIR, BINDIR and PROVISIONING.

set -eu

: "${SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${BINDIR:=$SRCDIR/build}"
: "${PROVISIONING:=$BINDIR/src/cli/provisioning}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/deeplink-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

fail()
{
	echo "FAIL: $*" >&2
	for f in out err; do
		if [ -s "$tmp/$f" ]; then
			echo "--- $f:" >&2
			cat "$tmp/$f" >&2
		fi
	done
	exit 1
}

# expect STATUS CMD...: run with stdout/stderr captured
expect()
{
	want=$1
	shift
	set +e
	"$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	set -e
	[ "$got" -eq "$want" ] || fail "exit $got, not $want: $*"
}

export HOME="$tmp/home" XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config"
export PROVISIONING_STATE_DIR="$tmp/state"
unset PROVISIONING_TENANT || true
mkdir -p "$HOME" "$tmp/bin" "$tmp/nobin"
cat >"$tmp/bin/xdg-mime" <<'EOS'
#!/bin/sh
# helpers get a scrubbed environment: XDG_* passes, our own names do not
mkdir -p "$XDG_CONFIG_HOME"
echo "$@" >>"$XDG_CONFIG_HOME/../xdg-mime.args"
echo "[Default Applications]" >>"$XDG_CONFIG_HOME/mimeapps.list"
echo "$3=$2" >>"$XDG_CONFIG_HOME/mimeapps.list"
EOS
chmod +x "$tmp/bin/xdg-mime"
desktop="$XDG_DATA_HOME/applications/provisioning-deeplink.desktop"
self=$(readlink -f "$PROVISIONING")

# register
PATH="$tmp/bin:/usr/bin:/bin" expect 0 "$PROVISIONING" deeplink register
[ -f "$desktop" ] || fail "no desktop entry at $desktop"
grep -qx "Exec=$self deeplink handle %u" "$desktop" ||
    fail "Exec line: $(grep Exec= "$desktop")"
grep -qx "MimeType=x-scheme-handler/entra-provision;" "$desktop" ||
    fail "MimeType line"
grep -qx "Terminal=true" "$desktop" || fail "Terminal line"
grep -qx "default provisioning-deeplink.desktop x-scheme-handler/entra-provision" \
    "$tmp/xdg-mime.args" || fail "xdg-mime args: $(cat "$tmp/xdg-mime.args")"
[ "$(stat -c %a "$desktop")" = 644 ] || fail "desktop entry mode"

# the seed's spelling does the same
rm -f "$desktop"
PATH="$tmp/bin:/usr/bin:/bin" expect 0 "$PROVISIONING" --register-deeplink
[ -f "$desktop" ] || fail "--register-deeplink wrote no entry"

# no xdg-mime: still registered, with a warning
rm -f "$desktop"
PATH="$tmp/nobin" expect 0 "$PROVISIONING" deeplink register
[ -f "$desktop" ] || fail "no entry without xdg-mime"
grep -q "xdg-mime not found" "$tmp/err" || fail "no xdg-mime warning"

# hostile or broken links: refused before anything else
expect 2 "$PROVISIONING" deeplink handle 'javascript:alert(1)'
grep -q "refusing the link" "$tmp/err" || fail "message for javascript:"
expect 2 "$PROVISIONING" deeplink handle \
    'entra-provision://enroll?user=a@contoso.com&pin=918273'
grep -q "never carry secrets" "$tmp/err" || fail "secret message"
if grep -q 918273 "$tmp/out" "$tmp/err"; then fail "PIN echoed"; fi
expect 2 "$PROVISIONING" deeplink handle \
    'entra-provision://enroll?user=a%0a@contoso.com'
expect 2 "$PROVISIONING" deeplink handle \
    'entra-provision://enroll?user=$(reboot)@contoso.com'
expect 2 "$PROVISIONING" deeplink handle
expect 2 "$PROVISIONING" deeplink frobnicate
expect 0 "$PROVISIONING" deeplink --help

# a tenant that is not ours
expect 2 "$PROVISIONING" --tenant fabrikam.com deeplink handle \
    'entra-provision://enroll?user=a@contoso.com&tenant=contoso.com'
grep -q "is for tenant contoso.com" "$tmp/err" || fail "tenant conflict"

# a good link without a terminal: refused
good='entra-provision://enroll?user=alice@contoso.com&tenant=contoso.com&display=Alice%20A'
expect 2 setsid -w "$PROVISIONING" deeplink handle "$good" </dev/null
grep -q "no terminal" "$tmp/err" || fail "no-terminal message"

# on a terminal, anything but "yes" does nothing
if command -v script >/dev/null 2>&1; then
	set +e
	printf 'y\n' | timeout 30 script -qec \
	    "'$PROVISIONING' deeplink handle '$good'" /dev/null \
	    >"$tmp/out" 2>"$tmp/err"
	got=$?
	set -e
	[ "$got" -eq 2 ] || fail "'y' on the terminal: exit $got"
	grep -q "user:    alice@contoso.com (UPN)" "$tmp/out" ||
	    fail "prompt does not show the user"
	grep -q "tenant:  contoso.com (from the link)" "$tmp/out" ||
	    fail "prompt does not show the tenant"
	grep -q "as the link claims" "$tmp/out" || fail "display not marked"
	grep -q "Not confirmed; nothing was done" "$tmp/out" ||
	    fail "no refusal on 'y'"
fi

# unregister: entry and association gone; others' lines kept
echo "text/html=firefox.desktop" >>"$XDG_CONFIG_HOME/mimeapps.list"
PATH="$tmp/bin:/usr/bin:/bin" expect 0 "$PROVISIONING" deeplink unregister
[ ! -e "$desktop" ] || fail "desktop entry still there"
if grep -q "provisioning-deeplink" "$XDG_CONFIG_HOME/mimeapps.list"; then
	fail "association left in mimeapps.list"
fi
grep -q "text/html=firefox.desktop" "$XDG_CONFIG_HOME/mimeapps.list" ||
    fail "someone else's association removed"
expect 0 "$PROVISIONING" deeplink unregister

echo "ok"
