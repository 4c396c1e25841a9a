#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# The Debian packages: cpack -G DEB on this build (into a scratch
# directory), then their file lists (dpkg -c), control fields, maintainer
# scripts, lintian (no E:), the version against `provisioning --version`,
# and the binaries extracted with dpkg -x.
#
# usage: test_deb.sh CPACK   (env BINDIR, PROVISIONING, VAUTH from ctest)
set -eu

CPACK=${1:-cpack}
fail=0
bad() { echo "FAIL: $*" >&2; fail=1; }
need() {
	command -v "$1" >/dev/null 2>&1 && return 0
	echo "SKIP: $1 not installed (sh scripts/deps.sh)" >&2
	exit 77
}
need "$CPACK"; need dpkg-deb; need dpkg-shlibdeps; need lintian

tmp=$(mktemp -d "${TMPDIR:-/tmp}/prov-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

ver=$("$PROVISIONING" --version | sed -n 's/^provisioning //p')
[ -n "$ver" ] || { bad "provisioning --version: no version"; exit 1; }
[ "$("$VAUTH" --version)" = "vauth $ver" ] ||
    bad "vauth --version is '$("$VAUTH" --version)', not 'vauth $ver'"
arch=$(dpkg --print-architecture)

# cpack into the scratch dir: _CPack_Packages and the .debs go there
if ! "$CPACK" -G DEB --config "$BINDIR/CPackConfig.cmake" -B "$tmp/pkg" \
    >"$tmp/cpack.log" 2>&1; then
	cat "$tmp/cpack.log" >&2
	bad "cpack -G DEB failed"
	exit 1
fi
main=$tmp/pkg/provisioning_${ver}_$arch.deb
vdeb=$tmp/pkg/provisioning-vauth_${ver}_$arch.deb
for d in "$main" "$vdeb"; do
	[ -f "$d" ] || { bad "no $(basename "$d"): $(ls "$tmp/pkg")"; exit 1; }
done

# control fields
field() { dpkg-deb -f "$1" "$2"; }
for d in "$main" "$vdeb"; do
	n=$(basename "$d")
	[ "$(field "$d" Version)" = "$ver" ] ||
	    bad "$n: Version $(field "$d" Version), --version says $ver"
	[ "$(field "$d" Priority)" = optional ] || bad "$n: Priority"
	[ -n "$(field "$d" Section)" ] || bad "$n: no Section"
	field "$d" Maintainer | grep -q '<.*@.*>' || bad "$n: Maintainer"
	field "$d" Depends | grep -q 'libc6' ||
	    bad "$n: Depends lacks libc6 (shlibdeps): $(field "$d" Depends)"
	[ "$(field "$d" Description | wc -l)" -ge 4 ] ||
	    bad "$n: no long description"
done
[ "$(field "$main" Package)" = provisioning ] || bad "main package name"
[ "$(field "$vdeb" Package)" = provisioning-vauth ] || bad "vauth name"
for lib in libfido2-1 libcurl4 libjansson4 libsqlite3-0 libhidapi-hidraw0 \
    libcairo2; do
	field "$main" Depends | grep -q "$lib" || bad "Depends lacks $lib"
done

# the file lists
dpkg-deb -c "$main" >"$tmp/main.list"
dpkg-deb -c "$vdeb" >"$tmp/vauth.list"
has() {		# has LIST PATH MODE
	grep -q "^$3 root/root .* \./${2#/}\$" "$tmp/$1.list" ||
	    bad "$1 package: no $2 ($3 root/root): $(grep -F "${2#/}" \
	    "$tmp/$1.list" || echo absent)"
}
has main /usr/bin/provisioning -rwxr-xr-x
for f in /usr/share/man/man1/provisioning.1.gz \
    /usr/lib/udev/rules.d/70-provisioning.rules \
    /usr/lib/sysusers.d/provisioning.conf \
    /usr/lib/tmpfiles.d/provisioning.conf \
    /usr/lib/systemd/system/provisioning-kiosk.service \
    /usr/lib/systemd/system/provisioning-auto.service \
    /usr/share/bash-completion/completions/provisioning \
    /usr/share/zsh/vendor-completions/_provisioning \
    /usr/share/doc/provisioning/copyright \
    /usr/share/doc/provisioning/changelog.gz \
    /usr/share/doc/provisioning/README.md.gz; do
	has main "$f" -rw-r--r--
done
# the PIN letters' module (cairo), a plain shared object beside the libdir
letter=$(awk '$6 ~ /^\.\/usr\/lib\/(.*\/)?provisioning\/letter\.so$/ {
    print substr($6, 2) }' "$tmp/main.list")
[ -n "$letter" ] || bad "main package: no /usr/lib/.../provisioning/letter.so"
[ -n "$letter" ] && has main "$letter" -rw-r--r--
has vauth /usr/bin/vauth -rwxr-xr-x
for f in /usr/share/man/man1/vauth.1.gz \
    /usr/share/doc/provisioning-vauth/copyright \
    /usr/share/doc/provisioning-vauth/changelog.gz; do
	has vauth "$f" -rw-r--r--
done
grep -q vauth "$tmp/main.list" && bad "vauth in the main package: $(grep vauth "$tmp/main.list")"
grep -q 'bin/provisioning' "$tmp/vauth.list" && bad "provisioning in the vauth package"
for l in main vauth; do
	awk '$2 != "root/root" { print }' "$tmp/$l.list" | grep . &&
	    bad "$l: files not owned by root/root"
	awk '$6 !~ /^\.\/usr\// { print }' "$tmp/$l.list" | grep . &&
	    bad "$l: files outside /usr"
	grep '^d' "$tmp/$l.list" | grep -v '^drwxr-xr-x ' && bad "$l: dir modes"
	grep -E '^-.{2}[xsS]' "$tmp/$l.list" | grep -v ' \./usr/bin/' &&
	    bad "$l: executables outside /usr/bin"
done

# maintainer scripts: POSIX sh, set -e
dpkg-deb -e "$main" "$tmp/ctl"
for s in postinst prerm postrm; do
	f=$tmp/ctl/$s
	[ -x "$f" ] || { bad "no executable $s"; continue; }
	[ "$(head -n 1 "$f")" = "#!/bin/sh" ] || bad "$s: not #!/bin/sh"
	grep -q '^set -e$' "$f" || bad "$s: no set -e"
	sh -n "$f" || bad "$s: sh -n"
	if command -v shellcheck >/dev/null 2>&1; then
		shellcheck -s sh "$f" || bad "$s: shellcheck"
	fi
done
grep -q 'systemd-sysusers' "$tmp/ctl/postinst" || bad "postinst: no sysusers"
grep -q 'udevadm trigger' "$tmp/ctl/postinst" || bad "postinst: no udevadm"

# lintian: no errors (warnings are printed for the log)
lintian --no-tag-display-limit "$main" "$vdeb" >"$tmp/lintian.log" 2>&1 || :
cat "$tmp/lintian.log"
grep -q '^E: ' "$tmp/lintian.log" && bad "lintian errors"

# extract: the binaries run, report the same version, are stripped and
# carry no RPATH; the gzips have no name or time stamp (gzip -9n)
mkdir "$tmp/root"
dpkg-deb -x "$main" "$tmp/root"
dpkg-deb -x "$vdeb" "$tmp/root"
v=$("$tmp/root/usr/bin/provisioning" --version) ||
    bad "extracted provisioning --version failed"
[ "$v" = "provisioning $ver" ] || bad "extracted --version: '$v'"
v=$("$tmp/root/usr/bin/vauth" --version) || bad "extracted vauth failed"
[ "$v" = "vauth $ver" ] || bad "extracted vauth --version: '$v'"
for b in provisioning vauth letter.so; do
	f=$tmp/root/usr/bin/$b
	[ "$b" = letter.so ] && f=$tmp/root$letter
	if command -v readelf >/dev/null 2>&1; then
		readelf -d "$f" | grep -E 'RPATH|RUNPATH' && bad "$b: RPATH"
		readelf -S "$f" | grep -q -E '\.symtab|\.debug_info' &&
		    bad "$b: not stripped"
		readelf -d "$f" | grep -q 'BIND_NOW' || bad "$b: no -z now"
		readelf -lW "$f" | grep -q GNU_RELRO || bad "$b: no relro"
		[ "$b" = letter.so ] ||
		    readelf -d "$f" | grep -q 'PIE' || bad "$b: not PIE"
	fi
done
# cairo and its stack are mapped only by a run that writes letters
if command -v readelf >/dev/null 2>&1; then
	readelf -d "$tmp/root/usr/bin/provisioning" | grep -E 'NEEDED.*(cairo|fontconfig)' &&
	    bad "provisioning links cairo (it belongs to letter.so)"
	readelf -d "$tmp/root$letter" | grep -q 'NEEDED.*libcairo' ||
	    bad "letter.so does not link cairo"
fi
for g in "$tmp"/root/usr/share/man/man1/*.gz \
    "$tmp"/root/usr/share/doc/*/*.gz; do
	gzip -t "$g" || bad "$g: bad gzip"
	# header: flags (no FNAME) and MTIME all zero
	h=$(od -An -tx1 -j3 -N5 "$g" | tr -d ' \n')
	[ "$h" = 0000000000 ] || bad "$(basename "$g"): not gzip -n ($h)"
done
gzip -dc "$tmp/root/usr/share/doc/provisioning/changelog.gz" |
    head -n 1 | grep -q "^provisioning ($ver) " ||
    bad "changelog.gz: first entry is not $ver"
grep -q '^SUBSYSTEM=="hidraw".*GROUP="fido"' \
    "$tmp/root/usr/lib/udev/rules.d/70-provisioning.rules" || bad "udev rule"
grep -q '^g fido ' "$tmp/root/usr/lib/sysusers.d/provisioning.conf" ||
    bad "sysusers: no fido group"

# the units: systemd-analyze verify against the extracted binary
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir "$tmp/units"
	for u in provisioning-kiosk.service provisioning-auto.service; do
		sed "s|/usr/bin/provisioning|$tmp/root/usr/bin/provisioning|" \
		    "$tmp/root/usr/lib/systemd/system/$u" >"$tmp/units/$u"
		grep -q '^NoNewPrivileges=yes' "$tmp/units/$u" ||
		    bad "$u: not hardened"
	done
	systemd-analyze verify --man=no "$tmp"/units/*.service ||
	    bad "systemd-analyze verify"
fi

[ $fail -eq 0 ] && echo "ok: provisioning $ver packages"
exit $fail
