#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The whole test suite, as CI runs it: a normal build (-Werror) and an
# ASan+UBSan build each run every ctest; a clang libFuzzer build runs
# each fuzz target briefly over its in-tree corpus.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
JOBS=$(nproc)

build() {
	dir=$1; shift
	cmake -S . -B "$dir" -DWERROR=ON "$@" >/dev/null
	cmake --build "$dir" -j"$JOBS"
}

echo "== normal build"
build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
(cd build && ctest -j"$JOBS" --output-on-failure -LE fuzz)

echo "== ASan+UBSan build"
build build-asan -DCMAKE_BUILD_TYPE=Debug -DSANITIZE=ON
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest -j"$JOBS" --output-on-failure -LE fuzz)

echo "== fuzz smoke (clang, libFuzzer)"
CC=clang build build-fuzz -DCMAKE_BUILD_TYPE=Debug -DFUZZ=ON
(cd build-fuzz && ctest -j"$JOBS" --output-on-failure -L fuzz)

echo "== all tests passed"
