#!/bin/bash
# The sandbox's side of the bash completion of snap commands (see
# complete.sh): snap-exec runs it, for `snap-run --command=complete`, as
#   bash etelpmoc.sh COMPLETER COMP_TYPE COMP_KEY COMP_POINT COMP_CWORD COMP_WORDBREAKS COMP_LINE WORD...
# It puts bash's completion state back, sources the app's completer, runs
# the completion the completer registered for the command, and answers with
# the compopt options, a bounce (alias, export, job or variable: words only
# the user's shell knows), an empty line, then the completions.

die() {
	echo "cannot complete: $*" >&2
	exit 1
}

[ "${BASH_SOURCE[0]}" = "$0" ] || die "etelpmoc.sh is run, not sourced"
[ $# -ge 8 ] || die "usage: $0 COMPLETER COMP_TYPE COMP_KEY COMP_POINT COMP_CWORD COMP_WORDBREAKS COMP_LINE WORD..."
_completer=$1
COMP_TYPE=$2 COMP_KEY=$3 COMP_POINT=$4 COMP_CWORD=$5 COMP_WORDBREAKS=$6 COMP_LINE=$7
shift 7
COMP_WORDS=("$@")
COMPREPLY=()
[ -n "$_completer" ] || die "no completer given"
[ -f "$_completer" ] || die "the completer $_completer does not exist"
[[ $COMP_CWORD =~ ^[0-9]+$ ]] && [ "$COMP_CWORD" -lt ${#COMP_WORDS[@]} ] || die "COMP_CWORD $COMP_CWORD is not a word"

# bash-completion's helpers, where the base has them (completers use them).
if [ -r /usr/share/bash-completion/bash_completion ]; then
	# shellcheck disable=SC1091
	. /usr/share/bash-completion/bash_completion
fi

# The options completions ask for go back to the user's shell.
declare -A _opts
compopt() {
	local i=1
	while [ $i -le $# ]; do
		case ${!i} in
		-o) i=$((i + 1)) && _opts[${!i}]=1 ;;
		+o) i=$((i + 1)) && unset "_opts[${!i}]" ;;
		esac
		i=$((i + 1))
	done
}
compgen() {
	local OPTIND=1 opt
	while getopts :o: opt; do
		[ "$opt" = o ] && _opts[$OPTARG]=1
	done
	builtin compgen "$@"
}

# shellcheck disable=SC1090
. "$_completer"

# What the completer registered for the command, as the shell would split it.
_cmd=${COMP_WORDS[0]}
# Nothing registered: file names, as bash does by default.
_spec=$(complete -p "$_cmd" 2>/dev/null) || _spec="complete -f $_cmd"
eval "_words=($_spec)"
_func= _action= _bounce=
set -- "${_words[@]:1}"
OPTIND=1
while getopts :abcdefgjksuvA:C:F:G:W:o: opt; do
	case $opt in
	a) _action=alias ;; b) _action=builtin ;; c) _action=command ;; d) _action=directory ;;
	e) _action=export ;; f) _action=file ;; g) _action=group ;; j) _action=job ;; k) _action=keyword ;;
	s) _action=service ;; u) _action=user ;; v) _action=variable ;;
	A) _action=$OPTARG ;;
	C | F) _func=$OPTARG ;;
	G) mapfile -t COMPREPLY < <(builtin compgen -G "$OPTARG" -- "${COMP_WORDS[COMP_CWORD]}") ;;
	W) mapfile -t COMPREPLY < <(builtin compgen -W "$OPTARG" -- "${COMP_WORDS[COMP_CWORD]}") ;;
	o) _opts[$OPTARG]=1 ;;
	*) die "the completion of $_cmd uses -$OPTARG, which is not supported" ;;
	esac
done

case $_action in
alias | export | job | variable) _bounce=$_action ;;
"") ;;
*) mapfile -t COMPREPLY < <(builtin compgen -A "$_action" -- "${COMP_WORDS[COMP_CWORD]}") ;;
esac
if [ -z "$_bounce" ] && [ -n "$_func" ]; then
	if declare -F "$_func" >/dev/null; then
		"$_func" "$_cmd" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]-}"
	else
		mapfile -t COMPREPLY < <("$_func" "$_cmd" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]-}")
	fi
fi

echo "${!_opts[*]}"
echo "$_bounce"
echo
[ ${#COMPREPLY[@]} -eq 0 ] || printf '%s\n' "${COMPREPLY[@]}"
