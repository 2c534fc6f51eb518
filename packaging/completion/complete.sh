# shellcheck shell=bash
# Bash completion for the commands of snaps (/snap/bin/*), through each
# app's own `completer:` script, run inside the app's sandbox.
#
# `confine install` links /var/lib/snapd/desktop/bash-completion/completions/<command>
# to this file for each app with a completer; bash-completion sources it
# (with the command's name in $1) the first time the command is completed,
# when /var/lib/snapd/desktop is in XDG_DATA_DIRS (snapd's profile.d script
# puts it there). The protocol is snapd's:
#   1. here, bash's completion state goes out as arguments:
#        snap-run --command=complete CMD COMP_TYPE COMP_KEY COMP_POINT COMP_CWORD
#                 COMP_WORDBREAKS COMP_LINE COMP_WORDS...
#   2. in the sandbox, snap-exec runs etelpmoc.sh with the app's completer,
#      which rebuilds that state, runs the completion and answers with:
#        line 1: compopt options (lower-case words), line 2: a bounce (a kind
#        of word only this shell can complete: alias, export, job, variable),
#        line 3: empty, then one completion per line;
#   3. here, the answer is checked before bash gets it: the app is not
#      trusted to put anything else in the user's shell.

type -t _confine_snap_complete >/dev/null ||
	_confine_snap_complete() {
		local answer
		answer=$(snap-run --command=complete "$1" "$COMP_TYPE" "$COMP_KEY" "$COMP_POINT" "$COMP_CWORD" \
			"$COMP_WORDBREAKS" "$COMP_LINE" "${COMP_WORDS[@]}" 2>/dev/null) || return 1
		local -a opts lines
		local bounce sep line i
		mapfile -t lines <<<"$answer"
		read -r -a opts <<<"${lines[0]-}"
		bounce=${lines[1]-}
		sep=${lines[2]-}
		for i in "${opts[@]}"; do
			[[ $i =~ ^[a-z]+$ ]] || return 2
		done
		case $bounce in
		"" | alias | export | job | variable) ;;
		*) return 2 ;;
		esac
		[ -z "$sep" ] || return 2
		COMPREPLY=()
		if [ -z "$bounce" ]; then
			# Nothing that could trick the user: no control characters, no
			# shell syntax beyond quotes.
			for line in "${lines[@]:3}"; do
				[[ -z $line || $line == *[[:cntrl:]\;\&\?\*\{\}]* ]] || COMPREPLY+=("$line")
			done
		else
			mapfile -t COMPREPLY < <(compgen -A "$bounce" -- "${COMP_WORDS[COMP_CWORD]}")
		fi
		if [ ${#opts[@]} -gt 0 ]; then
			# shellcheck disable=SC2046
			compopt $(printf ' -o %s' "${opts[@]}")
		fi
		return 0
	}

[ -z "${1-}" ] || complete -F _confine_snap_complete "$1"
