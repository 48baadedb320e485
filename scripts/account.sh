# Whether $2 names an entry of the passwd/group-style file $1. Read here,
# not through getent: minimal roots and busybox systems have no getent.
pw_has() {
	[ -f "$1" ] || return 1
	while IFS=: read -r _pw_n _pw_rest; do
		if [ "$_pw_n" = "$2" ]; then return 0; fi
	done <"$1"
	return 1
}

# Whether command $1 is in PATH (`command -v` needs a writable stdout,
# which a chroot without /dev may not give).
pw_cmd() {
	_pw_ifs=$IFS
	IFS=:
	for _pw_d in $PATH; do
		if [ -x "$_pw_d/$1" ]; then
			IFS=$_pw_ifs
			return 0
		fi
	done
	IFS=$_pw_ifs
	return 1
}

pw_nologin() {
	for _pw_s in /usr/sbin/nologin /sbin/nologin /usr/bin/nologin; do
		if [ -x "$_pw_s" ]; then
			printf '%s\n' "$_pw_s"
			return 0
		fi
	done
	echo /bin/false
}

# Whether id $2 is taken in the passwd/group-style file $1.
pw_has_id() {
	[ -f "$1" ] || return 1
	while IFS=: read -r _pw_n _pw_x _pw_i _pw_rest; do
		if [ "$_pw_i" = "$2" ]; then return 0; fi
	done <"$1"
	return 1
}

# The highest free system id below 1000 in file $1 (useradd -r counts
# down from SYS_UID_MAX too); $2, when free, is preferred.
pw_free_id() {
	if [ -n "$2" ] && ! pw_has_id "$1" "$2"; then
		printf '%s\n' "$2"
		return 0
	fi
	_pw_id=999
	while [ "$_pw_id" -ge 100 ]; do
		if ! pw_has_id "$1" "$_pw_id"; then
			printf '%s\n' "$_pw_id"
			return 0
		fi
		_pw_id=$((_pw_id - 1))
	done
	echo "no free system id below 1000 in $1" >&2
	return 1
}

# pw_group NAME SYSTEM(1|0)
pw_group() {
	if pw_has /etc/group "$1"; then return 0; fi
	if pw_cmd groupadd; then
		if [ "$2" = 1 ]; then
			groupadd -r "$1" || return 1
		else
			groupadd "$1" || return 1
		fi
	elif pw_cmd addgroup; then
		if [ "$2" = 1 ]; then
			addgroup -S "$1" || return 1
		else
			addgroup "$1" || return 1
		fi
	else
		# A minimal root without account tools: write the entry the way
		# they would.
		_pw_gid=$(pw_free_id /etc/group) || return 1
		printf '%s:x:%s:\n' "$1" "$_pw_gid" >>/etc/group || return 1
		if [ -f /etc/gshadow ]; then
			printf '%s:!::\n' "$1" >>/etc/gshadow || return 1
		fi
	fi
}

# pw_user NAME GROUP HOME SHELL(empty: nologin) SYSTEM(1|0)
pw_user() {
	if pw_has /etc/passwd "$1"; then return 0; fi
	_pw_sh=$4
	if [ -z "$_pw_sh" ]; then _pw_sh=$(pw_nologin); fi
	if pw_cmd useradd; then
		if [ "$5" = 1 ]; then
			useradd -r -g "$2" -d "$3" -M -s "$_pw_sh" -c "$1" "$1" || return 1
		else
			useradd -g "$2" -d "$3" -M -s "$_pw_sh" -c "$1" "$1" || return 1
		fi
	elif pw_cmd adduser; then
		if [ "$5" = 1 ]; then
			adduser -S -D -H -h "$3" -s "$_pw_sh" -G "$2" -g "$1" "$1" || return 1
		else
			adduser -D -H -h "$3" -s "$_pw_sh" -G "$2" -g "$1" "$1" || return 1
		fi
	else
		_pw_gid=
		while IFS=: read -r _pw_n _pw_x _pw_i _pw_rest; do
			if [ "$_pw_n" = "$2" ]; then _pw_gid=$_pw_i; fi
		done </etc/group
		if [ -z "$_pw_gid" ]; then
			echo "cannot create user $1: group $2 does not exist" >&2
			return 1
		fi
		_pw_uid=$(pw_free_id /etc/passwd "$_pw_gid") || return 1
		printf '%s:x:%s:%s:%s:%s:%s\n' "$1" "$_pw_uid" "$_pw_gid" "$1" "$3" "$_pw_sh" >>/etc/passwd || return 1
		if [ -f /etc/shadow ]; then
			printf '%s:!*:::::::\n' "$1" >>/etc/shadow || return 1
		fi
	fi
}
