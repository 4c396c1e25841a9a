# SPDX-License-Identifier: BSD-2-Clause
#
# zsh -f zsh_complete.zsh FPATH_DIR LINE WANT: type LINE and a TAB into an
# interactive zsh (in a zpty) that has compinit'ed the completion in
# FPATH_DIR; exit 0 once the screen shows WANT (within 10 s), else print
# the screen and exit 1.
zmodload zsh/zpty || exit 77
local dir=$1 line=$2 want=$3 out="" l i screen
zpty z zsh -f -i
zpty -w z "PS1='> '; fpath=($dir \$fpath); autoload -U compinit;" \
    "compinit -u -D; provisioning() { :; }; print READY"
zpty -r z l '*READY*READY*'
zpty -w -n z "$line"$'\t'
for i in {1..100}; do
	sleep 0.1
	while zpty -r -t z l; do out+=$l; done
	screen=$(print -r -- "$out" | tr -d '\r\b' |
	    sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g')
	[[ $screen == *"$want"* ]] && { zpty -d z; exit 0; }
done
zpty -d z
print -r -- "$screen"
exit 1
