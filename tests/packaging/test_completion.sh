#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# The shell completion against the binary's own --help: the bash
# completion is loaded in bash (with and without the bash-completion
# package's helpers) and asked for completions as bash would; every verb
# of `provisioning --help`, every sub-command and every option of each
# `provisioning VERB [SUB] --help` must complete.  The zsh completion must
# name every verb and option too, and pass `zsh -n` when zsh is there.
#
# env SRCDIR, PROVISIONING from ctest
set -u

P=$PROVISIONING
BASHC=$SRCDIR/packaging/completion/provisioning.bash
ZSHC=$SRCDIR/packaging/completion/_provisioning
fail=0
bad() { echo "FAIL: $*" >&2; fail=1; }

# comp WORD...: complete the last word as bash would; COMPREPLY holds
# the offers (run in this shell: no fork per check)
comp() {
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_provisioning provisioning "${COMP_WORDS[COMP_CWORD]}" \
	    "${COMP_WORDS[COMP_CWORD - 1]}"
}

# expect "WANT..." WORD...: each of WANT is among the completions of WORD...
expect() {
	local want=$1 w got
	shift
	comp "$@"
	got=" ${COMPREPLY[*]} "
	for w in $want; do
		[[ $got == *" $w "* ]] ||
		    bad "[$mode] '$*' does not complete to '$w' (got:$got)"
	done
}

# the binary's own --help, read once
verbs=$("$P" --help | sed -n '/^commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }')
[ "$(echo "$verbs" | wc -w)" -ge 10 ] || bad "cannot read the verbs: $verbs"
gopts=$("$P" --help | sed -n '/^global options:/,/^$/p' |
    grep -oE -- '(^| |\|)--?[a-z][a-z0-9-]*' | tr -d ' |' | sort -u)
[ "$(echo "$gopts" | wc -w)" -ge 15 ] || bad "cannot read the options: $gopts"

# opts VERB [SUB]: the options in its --help
opts() {
	"$P" "$@" --help | grep -oE -- '(^| |\[)--[a-z][a-z0-9-]*' |
	    tr -d ' [' | sort -u
}
declare -A vopts vsubs
for v in $verbs; do
	# sub-commands: named in `provisioning VERB --help` usage lines
	vsubs[$v]=$("$P" "$v" --help |
	    grep -oE "provisioning( \[[^]]*\])* $v [a-z][a-z-]*" |
	    awk '{ print $NF }' | sort -u | tr '\n' ' ')
	# a verb with sub-commands: its options are the sub-commands';
	# help's --help is the global usage (the global options)
	if [ -z "${vsubs[$v]}" ] && [ "$v" != help ]; then
		vopts[$v]=$(opts "$v" | tr '\n' ' ')
	fi
	for s in ${vsubs[$v]}; do
		vopts[$v $s]=$(opts "$v" "$s" | tr '\n' ' ')
	done
done

run_checks() {
	local v s o
	# the brief's two cases
	expect enroll provisioning en
	expect --csv provisioning enroll --cs
	# global options before the verb, and values
	expect kiosk provisioning --tenant contoso.com ki
	expect kiosk provisioning --tenant=contoso.com ki
	expect usgov provisioning --cloud us
	expect random provisioning enroll --pin ra
	expect "$(echo "$gopts" | grep -- '^--')" provisioning --
	for o in $gopts; do
		expect "$o" provisioning "$o"
	done
	expect "$verbs" provisioning ""
	expect "$verbs" provisioning help ""
	for v in $verbs; do
		expect "$v" provisioning "${v:0:2}"
		expect --help provisioning "$v" --
		expect "${vopts[$v]:-}" provisioning "$v" --
		expect "${vsubs[$v]}" provisioning "$v" ""
		for s in ${vsubs[$v]}; do
			expect "${vopts[$v $s]}" provisioning "$v" "$s" --
		done
	done
}

# 1. plain bash: only COMP_WORDS and COMP_CWORD
mode=plain
# shellcheck source=/dev/null
. "$BASHC" || bad "cannot load $BASHC"
complete -p provisioning >/dev/null 2>&1 || bad "no 'complete ... provisioning'"
run_checks

# 2. with the bash-completion package's helpers (_init_completion)
if [ -f /usr/share/bash-completion/bash_completion ]; then
	mode=bash-completion
	# shellcheck source=/dev/null
	. /usr/share/bash-completion/bash_completion
	# shellcheck source=/dev/null
	. "$BASHC"
	declare -F _init_completion >/dev/null || bad "no _init_completion"
	run_checks
else
	echo "note: bash-completion not installed; checked without it"
fi

# 3. zsh: every verb and option named; syntax if zsh is installed
grep -q '^#compdef provisioning' "$ZSHC" || bad "zsh: no #compdef"
for o in $gopts; do
	grep -qE -- "[',{)]${o}([=[,}])" "$ZSHC" || bad "zsh: global $o missing"
done
for v in $verbs; do
	grep -q "^ *'$v:" "$ZSHC" || bad "zsh: verb $v missing"
	for o in ${vopts[$v]:-}; do
		grep -q -- "${o}[=[]" "$ZSHC" || bad "zsh: $v $o missing"
	done
	for s in ${vsubs[$v]}; do
		grep -q "'$s:" "$ZSHC" || bad "zsh: $v $s missing"
		for o in ${vopts[$v $s]}; do
			grep -q -- "${o}[=[]" "$ZSHC" || bad "zsh: $v $s $o missing"
		done
	done
done
if command -v zsh >/dev/null 2>&1; then
	zsh -n "$ZSHC" || bad "zsh -n $ZSHC"
	# and completing in an interactive zsh, as a user would
	zc=$SRCDIR/tests/packaging/zsh_complete.zsh
	zdir=$(dirname "$ZSHC")
	zsh -f "$zc" "$zdir" "provisioning en" "provisioning enroll " ||
	    bad "zsh: 'provisioning en' does not complete to enroll"
	zsh -f "$zc" "$zdir" "provisioning enroll --cs" "enroll --csv" ||
	    bad "zsh: 'provisioning enroll --cs' does not complete to --csv"
else
	echo "note: zsh not installed; zsh -n skipped"
fi

[ $fail -eq 0 ] && echo "ok: completion of $(echo "$verbs" | wc -w) verbs"
exit $fail
