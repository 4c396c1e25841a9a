#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Install the Debian 12 packages the build, tests and demo need
# (dpkg-dev, lintian, bash-completion: cpack -G DEB and its tests;
# tmux: the kiosk board's test).
# Skips apt when everything is already there; uses sudo when not root.
set -eu

PKGS="build-essential cmake pkg-config clang libclang-rt-14-dev
 libfido2-dev libcbor-dev libcurl4-openssl-dev libssl-dev libhidapi-dev
 libjansson-dev libsqlite3-dev libcmocka-dev python3 python3-fido2
 python3-cryptography nghttp2-proxy mandoc ca-certificates procps
 libpq-dev postgresql libcairo2-dev poppler-utils
 dpkg-dev lintian bash-completion tmux"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "installing:$missing" >&2
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
