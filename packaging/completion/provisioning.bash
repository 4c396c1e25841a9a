# SPDX-License-Identifier: BSD-2-Clause
# bash completion for provisioning(1); installed as
# /usr/share/bash-completion/completions/provisioning.
#
# Written from `provisioning --help` and each `provisioning VERB --help`;
# tests/packaging/test_completion.sh fails when a verb or an option is
# missing here.  Works with or without the bash-completion package.

# global options, and the seed's verb-less spellings
_prov_gopts="--tenant --client-id --cloud --authority-url --graph-url
 --graph-version --ca-bundle --disable-ssl-verify --local-ssl-verify
 --state-dir --device --virtual-keys --queue --station --mds-root --verbose -v -vv --json
 --mode --version --help -h"
_prov_seed="--login --csv --automatic-provision --register-deeplink"
_prov_verbs="login logout whoami devices pin reset enroll auto kiosk list
 remove doctor webauthn deeplink queue mds help"

_prov_enroll_common="--pin --pin-env --pin-length --force-pin-change
 --min-pin-length --display-name --replace --another --dry-run --as-user
 --issue-tap --same-key --parallel --report --failures --pins-out
 --no-verify --timeout --challenge-timeout --mailers --print
 --lease-seconds"

# the options of VERB [SUB], --help included
_prov_verb_opts()
{
	case "$1" in
	login)	echo "--browser --device-code --client-credentials
		    --login-hint --session-hours --scopes --client-secret-file
		    --certificate --private-key" ;;
	logout)	echo "--all" ;;
	reset)	echo "--yes" ;;
	enroll)	echo "--csv --group $_prov_enroll_common" ;;
	auto)	echo "--group $_prov_enroll_common --interval --rounds" ;;
	kiosk)	echo "--group --csv $_prov_enroll_common --interval --rounds
		    --status-file --no-board --reset-keys" ;;
	pin)
		case "$2" in
		set)	echo "--pin-env" ;;
		change)	echo "--old-pin-env --pin-env" ;;
		esac ;;
	queue)
		case "$2" in
		add)	echo "--csv --group --failures" ;;
		status)	echo "--json" ;;
		drain)	echo "--resume" ;;
		report)	echo "--report --failures --json" ;;
		esac ;;
	webauthn)
		case "$2" in
		create)	echo "--options --pin-env --display-name
			    --attestation-none --no-self-check --timeout" ;;
		verify)	echo "--options --body" ;;
		esac ;;
	mds)
		case "$2" in
		update)	echo "--signer" ;;
		esac ;;
	esac
	echo "--help"
}

_prov_subs()
{
	case "$1" in
	pin)		echo "status set change" ;;
	webauthn)	echo "create verify" ;;
	deeplink)	echo "register unregister handle" ;;
	mds)		echo "update show" ;;
	queue)		echo "init add status retry drain report" ;;
	help)		echo "$_prov_verbs" ;;
	esac
}

# options taking a value, global or a verb's
_prov_takes_arg()
{
	case "$1" in
	--tenant|--client-id|--cloud|--authority-url|--graph-url|\
	--graph-version|--ca-bundle|--state-dir|--device|--virtual-keys|\
	--mode|--csv|--group|--pin|--pin-env|--old-pin-env|--pin-length|\
	--min-pin-length|--display-name|--report|--failures|--pins-out|\
	--timeout|--challenge-timeout|--interval|--rounds|--login-hint|\
	--session-hours|--scopes|--client-secret-file|--certificate|\
	--private-key|--options|--body|--mds-root|--mailers|--queue|--station|\
	--lease-seconds|--status-file|--signer)
		return 0 ;;
	esac
	return 1
}

_prov_files()
{
	if declare -F _filedir >/dev/null 2>&1; then
		_filedir "$@"
	elif [ "$1" = -d ]; then
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
	else
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
	fi
}

_provisioning()
{
	local cur prev words cword split=false
	local i w verb="" sub="" opts

	if declare -F _init_completion >/dev/null 2>&1; then
		_init_completion -s || return
	else
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]}
		if [[ $cur == --*=* ]]; then
			prev=${cur%%=*}
			cur=${cur#*=}
			split=true
		fi
	fi
	COMPREPLY=()

	# the value of an option
	case "$prev" in
	--cloud)
		mapfile -t COMPREPLY < <(compgen -W "global usgov usgov-dod
		    china" -- "$cur"); return ;;
	--graph-version)
		mapfile -t COMPREPLY < <(compgen -W "v1.0 beta" -- "$cur")
		return ;;
	--mode)
		mapfile -t COMPREPLY < <(compgen -W "headful headless" -- "$cur")
		return ;;
	--pin)
		mapfile -t COMPREPLY < <(compgen -W "random ask keep" -- "$cur")
		return ;;
	--device)
		mapfile -t COMPREPLY < <(compgen -W "$(echo /dev/hidraw*) unix:" \
		    -- "$cur")
		return ;;
	--csv)
		_prov_files '@(csv|CSV|txt)'; return ;;
	--ca-bundle|--report|--failures|--pins-out|--client-secret-file|\
	--certificate|--private-key|--options|--body|--mds-root|--status-file)
		_prov_files; return ;;
	--state-dir|--virtual-keys|--mailers)
		_prov_files -d; return ;;
	--pin-env|--old-pin-env)
		mapfile -t COMPREPLY < <(compgen -v -- "$cur"); return ;;
	esac
	if [ "$split" = true ] || _prov_takes_arg "$prev"; then
		return
	fi

	# the verb and its sub-command: the first words that are not options
	# or option values (global options may come anywhere)
	for ((i = 1; i < cword; i++)); do
		w=${words[i]}
		case "$w" in
		--)	break ;;
		-*=*)	;;
		-*)	_prov_takes_arg "$w" && ((i++)) ;;
		*)	if [ -z "$verb" ]; then
				verb=$w
			elif [ -z "$sub" ]; then
				sub=$w
			fi ;;
		esac
	done

	if [[ $cur == -* ]]; then
		if [ -n "$verb" ]; then
			opts="$_prov_gopts $(_prov_verb_opts "$verb" "$sub")"
		else
			opts="$_prov_gopts $_prov_seed"
		fi
		mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur" | sort -u)
		return
	fi
	if [ -z "$verb" ]; then
		mapfile -t COMPREPLY < <(compgen -W "$_prov_verbs" -- "$cur")
	elif [ -z "$sub" ] && [ -n "$(_prov_subs "$verb")" ]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_prov_subs "$verb")" \
		    -- "$cur")
	fi
}

complete -F _provisioning provisioning
