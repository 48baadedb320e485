# Version order, the same as packwright-hook's (hook/src/version.rs): a
# version splits into a main part and a pre-release (after the first "~",
# or the first "-" before a letter); parts are runs of digits (compared as
# numbers) or of letters (compared as ASCII); a missing part counts as "0";
# a pre-release sorts before its release.
pw_split() {
	_pw_v=${1#[vV]}
	pw_main=
	pw_prerel=
	pw_haspre=0
	while [ -n "$_pw_v" ]; do
		_pw_c=${_pw_v%"${_pw_v#?}"}
		_pw_v=${_pw_v#?}
		if [ "$_pw_c" = "~" ]; then
			pw_haspre=1
			pw_prerel=$_pw_v
			return 0
		fi
		if [ "$_pw_c" = "-" ]; then
			case $_pw_v in
			[A-Za-z]*)
				pw_haspre=1
				pw_prerel=$_pw_v
				return 0
				;;
			esac
		fi
		pw_main=$pw_main$_pw_c
	done
	return 0
}

# The parts of a version, separated by spaces.
pw_parts() {
	_pw_v=$1
	_pw_out=
	_pw_cur=
	_pw_kind=
	while [ -n "$_pw_v" ]; do
		_pw_c=${_pw_v%"${_pw_v#?}"}
		_pw_v=${_pw_v#?}
		case $_pw_c in
		[0-9]) _pw_k=d ;;
		[A-Za-z]) _pw_k=a ;;
		*) _pw_k= ;;
		esac
		if [ "$_pw_k" != "$_pw_kind" ] && [ -n "$_pw_cur" ]; then
			_pw_out="$_pw_out $_pw_cur"
			_pw_cur=
		fi
		_pw_kind=$_pw_k
		if [ -n "$_pw_k" ]; then
			_pw_cur=$_pw_cur$_pw_c
		fi
	done
	if [ -n "$_pw_cur" ]; then
		_pw_out="$_pw_out $_pw_cur"
	fi
	printf '%s\n' "${_pw_out# }"
}

# ASCII order of two runs of letters or digits: prints -1, 0 or 1.
pw_strcmp() {
	_pw_abc=0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz
	_pw_x=$1
	_pw_y=$2
	while [ -n "$_pw_x" ] && [ -n "$_pw_y" ]; do
		_pw_a=${_pw_x%"${_pw_x#?}"}
		_pw_b=${_pw_y%"${_pw_y#?}"}
		if [ "$_pw_a" != "$_pw_b" ]; then
			_pw_i=${_pw_abc%%"$_pw_a"*}
			_pw_j=${_pw_abc%%"$_pw_b"*}
			if [ ${#_pw_i} -lt ${#_pw_j} ]; then echo -1; else echo 1; fi
			return 0
		fi
		_pw_x=${_pw_x#?}
		_pw_y=${_pw_y#?}
	done
	if [ -n "$_pw_x" ]; then
		echo 1
	elif [ -n "$_pw_y" ]; then
		echo -1
	else
		echo 0
	fi
}

# Two space-separated part lists: prints -1, 0 or 1.
pw_cmp_parts() {
	_pw_p=$1
	_pw_q=$2
	while [ -n "$_pw_p" ] || [ -n "$_pw_q" ]; do
		_pw_x=0
		_pw_y=0
		if [ -n "$_pw_p" ]; then _pw_x=${_pw_p%% *}; fi
		if [ -n "$_pw_q" ]; then _pw_y=${_pw_q%% *}; fi
		case $_pw_p in
		*' '*) _pw_p=${_pw_p#* } ;;
		*) _pw_p= ;;
		esac
		case $_pw_q in
		*' '*) _pw_q=${_pw_q#* } ;;
		*) _pw_q= ;;
		esac
		case $_pw_x$_pw_y in
		*[!0-9]*) _pw_r=$(pw_strcmp "$_pw_x" "$_pw_y") ;;
		*)
			if [ "$_pw_x" -lt "$_pw_y" ]; then
				_pw_r=-1
			elif [ "$_pw_x" -gt "$_pw_y" ]; then
				_pw_r=1
			else
				_pw_r=0
			fi
			;;
		esac
		if [ "$_pw_r" != 0 ]; then
			echo "$_pw_r"
			return 0
		fi
	done
	echo 0
}

# Prints -1, 0 or 1 as version $1 sorts before, with or after $2.
pw_vercmp() {
	pw_split "$1"
	_pw_am=$pw_main
	_pw_ap=$pw_prerel
	_pw_ah=$pw_haspre
	pw_split "$2"
	_pw_r=$(pw_cmp_parts "$(pw_parts "$_pw_am")" "$(pw_parts "$pw_main")")
	if [ "$_pw_r" != 0 ]; then
		echo "$_pw_r"
	elif [ "$_pw_ah" = 1 ] && [ "$pw_haspre" = 1 ]; then
		pw_cmp_parts "$(pw_parts "$_pw_ap")" "$(pw_parts "$pw_prerel")"
	elif [ "$_pw_ah" = 1 ]; then
		echo -1
	elif [ "$pw_haspre" = 1 ]; then
		echo 1
	else
		echo 0
	fi
}

pw_lt() {
	[ "$(pw_vercmp "$1" "$2")" = -1 ]
}

# The upstream part of a manager's version: no epoch ("1:"), no packaging
# revision (the last "-": deb "-1", pacman "-1", apk "-r1").
pw_upstream() {
	_pw_v=${1#*:}
	printf '%s\n' "${_pw_v%-*}"
}
