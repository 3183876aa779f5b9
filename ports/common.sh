# shellcheck shell=bash
# shellcheck disable=SC2034 # PORTS_* variables are set for the scripts that source this
# ports/common.sh - helpers shared by the ports' test scripts (ports/*/test.sh).
#
# Source it from bash (`source ports/common.sh`); it works under `set -euo pipefail`.
# Every download lives below $XMM_CACHE (default /var/cache/libxmm, outside the checkout),
# keyed by package and version, and is made once: each cached item is built under its
# own flock, so concurrent callers (two ports' tests, two CI jobs) wait for each other
# instead of racing, and a half-made item (no .done marker) is redone.
#
# Environment:
#   XMM_CACHE     cache root (default /var/cache/libxmm)
#   XMM_VERBOSE   1: tee every qemu console to stdout, each line prefixed by the boot's name
#
# Functions (each documented where defined):
#   ports_step NAME, ports_die MSG, ports_note MSG
#   ports_setup_host
#   ports_apt ARGS..., ports_apt_update
#   ports_source PKG [VERSION]       -> PORTS_SRC_DIR, PORTS_SRC_VERSION
#   ports_deb PKG[=VERSION]          -> PORTS_DEB_DIR, PORTS_DEB_VERSION
#   ports_kernel_abi                 prints e.g. 6.1.0-57-amd64
#   ports_kernel_headers ABI         -> PORTS_KHEADERS (a tree to build modules against)
#   ports_initramfs OUT STAGING_DIR
#   ports_init_lib                   prints the /init side's shell helpers (xmm_exit ...)
#   ports_qemu NAME TIMEOUT_S LOG EXPECT_CODE -- QEMU_ARGS...
# Constants: PORTS_PASS_BYTE/PORTS_PASS_CODE, PORTS_FAIL_BYTE/PORTS_FAIL_CODE.

XMM_CACHE=${XMM_CACHE:-/var/cache/libxmm}
PORTS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PORTS_CURRENT_STEP=${PORTS_CURRENT_STEP:-start}

# isa-debug-exit turns the byte b written to port 0xf4 into qemu's exit code (b << 1) | 1.
PORTS_PASS_BYTE=16 # 0x10
PORTS_PASS_CODE=33
PORTS_FAIL_BYTE=1
PORTS_FAIL_CODE=3

# ports_step NAME: print "=== NAME" and remember NAME for ports_die's message.
ports_step() {
	PORTS_CURRENT_STEP=$1
	echo "=== $1"
}

# ports_die MSG...: print "FAIL [step]: MSG" to stderr and exit 1.
ports_die() {
	echo "FAIL [$PORTS_CURRENT_STEP]: $*" >&2
	exit 1
}

# ports_note MSG...: an indented progress line under the current step.
ports_note() {
	echo "    $*"
}

# _ports_lock NAME: take an exclusive flock on $XMM_CACHE/locks/NAME (waits for the holder);
# the fd number is left in _PORTS_LOCK_FD for _ports_unlock. Not re-entrant: one at a time.
_ports_lock() {
	mkdir -p "$XMM_CACHE/locks"
	exec {_PORTS_LOCK_FD}>"$XMM_CACHE/locks/$1.lock"
	flock "$_PORTS_LOCK_FD"
}

_ports_unlock() {
	exec {_PORTS_LOCK_FD}>&-
}

# _ports_fsname STRING: STRING safe as one file-name component (an epoch's ':' becomes '%3a').
_ports_fsname() {
	local s=${1//:/%3a}
	echo "${s//\//_}"
}

# ports_setup_host: install the host packages the ports need (qemu, busybox, cpio, kernel
# build tools, dpkg-dev...) through scripts/setup.sh --ports; does nothing when all are there.
ports_setup_host() {
	"$PORTS_ROOT/scripts/setup.sh" --ports || ports_die "scripts/setup.sh --ports failed"
}

# _ports_apt_init: write the private apt configuration under $XMM_CACHE/apt (once): deb and
# deb-src for bookworm, bookworm-updates and bookworm-security, from the archive URIs the
# host's own sources already use, signed by the host's Debian keyring. The system's lists,
# sources and package cache are never touched.
_ports_apt_init() {
	local d=$XMM_CACHE/apt main="" sec="" f line
	mkdir -p "$d/sources.list.d" "$d/lists/partial" "$d/cache/archives/partial"
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		while read -r line; do
			case $line in
			URIs:*security*) [ -n "$sec" ] || sec=${line#URIs:} ;;
			URIs:*debian*) [ -n "$main" ] || main=${line#URIs:} ;;
			esac
		done <"$f"
	done
	main=$(echo "${main:-http://deb.debian.org/debian}" | awk '{print $1}')
	sec=$(echo "${sec:-http://deb.debian.org/debian-security}" | awk '{print $1}')
	local key=/usr/share/keyrings/debian-archive-keyring.gpg
	[ -r "$key" ] || ports_die "no Debian archive keyring at $key"
	local tmp
	tmp=$(mktemp "$d/sources.list.d/.ports.XXXXXX")
	cat >"$tmp" <<EOF
Types: deb deb-src
URIs: $main
Suites: bookworm bookworm-updates
Components: main
Signed-By: $key

Types: deb deb-src
URIs: $sec
Suites: bookworm-security
Components: main
Signed-By: $key
EOF
	mv -f "$tmp" "$d/sources.list.d/ports.sources"
}

# ports_apt CMD ARGS...: run apt-get/apt-cache/apt-get-like CMD with the private lists
# (e.g. `ports_apt apt-cache showsrc xen`, `ports_apt apt-get download foo`).
ports_apt() {
	local cmd=$1 d=$XMM_CACHE/apt
	shift
	[ -f "$d/sources.list.d/ports.sources" ] || _ports_apt_init
	"$cmd" -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$d/sources.list.d" \
		-o Dir::State::Lists="$d/lists" -o Dir::Cache="$d/cache" \
		-o APT::Sandbox::User=root "$@"
}

# ports_apt_update: refresh the private lists, once per run (PORTS_APT_UPDATED is exported,
# so scripts started from this one skip it too). If the archive cannot be reached but lists
# from an earlier run exist, go on with those (with a warning).
ports_apt_update() {
	[ "${PORTS_APT_UPDATED:-}" = 1 ] && return 0
	_ports_apt_init
	_ports_lock apt-lists
	if ! ports_apt apt-get update -qq >"$XMM_CACHE/apt/update.log" 2>&1; then
		if compgen -G "$XMM_CACHE/apt/lists/*Packages*" >/dev/null; then
			echo "warning: apt update failed, using the lists of an earlier run:" >&2
			tail -3 "$XMM_CACHE/apt/update.log" >&2
		else
			_ports_unlock
			cat "$XMM_CACHE/apt/update.log" >&2
			ports_die "apt update of the private lists failed"
		fi
	fi
	_ports_unlock
	export PORTS_APT_UPDATED=1
}

# ports_source PKG [VERSION]: download and unpack the newest source version of PKG that
# actually downloads (the lists name versions the archive may answer 404 for; see
# shared/PORTS.md), or exactly VERSION. Cached in $XMM_CACHE/src/PKG-VERSION/ (the unpacked
# tree; the .dsc and tarballs beside it in PKG-VERSION.dl/). Sets PORTS_SRC_DIR and
# PORTS_SRC_VERSION and prints the version.
ports_source() {
	local pkg=$1 want=${2:-} versions v name dir dl
	ports_apt_update
	if [ -n "$want" ]; then
		versions=$want
	else
		versions=$(ports_apt apt-cache showsrc "$pkg" 2>/dev/null |
			awk -v p="$pkg" '/^Package: /{ok = ($2 == p)} ok && /^Version: /{print $2}' |
			sort -urV)
		[ -n "$versions" ] || ports_die "no source package $pkg in the lists"
	fi
	mkdir -p "$XMM_CACHE/src"
	for v in $versions; do
		name=$(_ports_fsname "$pkg-$v")
		dir=$XMM_CACHE/src/$name
		dl=$dir.dl
		if [ ! -f "$dir/.done" ]; then
			_ports_lock "src-$name"
			if [ ! -f "$dir/.done" ]; then
				rm -rf "$dir" "$dl"
				mkdir -p "$dl"
				if ! (cd "$dl" && ports_apt apt-get source -qq --download-only "$pkg=$v") \
					>"$dl/fetch.log" 2>&1; then
					echo "    $pkg $v: listed but does not download, trying an older one" >&2
					rm -rf "$dl"
					_ports_unlock
					continue
				fi
				if ! (cd "$dl" && dpkg-source --no-check -x ./*.dsc "$dir") >"$dl/unpack.log" 2>&1; then
					_ports_unlock
					cat "$dl/unpack.log" >&2
					ports_die "dpkg-source -x $pkg $v failed"
				fi
				touch "$dir/.done"
			fi
			_ports_unlock
		fi
		PORTS_SRC_DIR=$dir
		PORTS_SRC_VERSION=$v
		echo "$v"
		return 0
	done
	ports_die "no version of source package $pkg downloads (tried: ${versions//$'\n'/ })"
}

# ports_deb PKG[=VERSION]: `apt-get download` the package (the candidate version unless
# pinned) and `dpkg-deb -x` it into $XMM_CACHE/deb/PKG_VERSION/ (no install, no scripts).
# Sets PORTS_DEB_DIR (the extracted root) and PORTS_DEB_VERSION and prints the version.
ports_deb() {
	local pkg=${1%%=*} v="" name dir
	[ "$pkg" != "$1" ] && v=${1#*=}
	ports_apt_update
	if [ -z "$v" ]; then
		v=$(ports_apt apt-cache policy "$pkg" 2>/dev/null | awk '/Candidate:/{print $2}')
		if [ -z "$v" ] || [ "$v" = "(none)" ]; then
			ports_die "no binary package $pkg in the lists"
		fi
	fi
	name=$(_ports_fsname "${pkg}_$v")
	dir=$XMM_CACHE/deb/$name
	if [ ! -f "$dir/.done" ]; then
		mkdir -p "$XMM_CACHE/deb"
		_ports_lock "deb-$name"
		if [ ! -f "$dir/.done" ]; then
			rm -rf "$dir" "$dir.dl"
			mkdir -p "$dir.dl" "$dir"
			if ! (cd "$dir.dl" && ports_apt apt-get download -qq "$pkg=$v") >"$dir.dl/log" 2>&1; then
				_ports_unlock
				cat "$dir.dl/log" >&2
				ports_die "apt-get download $pkg=$v failed"
			fi
			dpkg-deb -x "$dir.dl"/*.deb "$dir" || { _ports_unlock; ports_die "dpkg-deb -x $pkg failed"; }
			rm -rf "$dir.dl"
			touch "$dir/.done"
		fi
		_ports_unlock
	fi
	PORTS_DEB_DIR=$dir
	PORTS_DEB_VERSION=$v
	echo "$v"
}

# ports_kernel_abi: print the Debian 6.1 kernel ABI that linux-image-amd64 depends on now
# (e.g. 6.1.0-57-amd64); the archive serves a few at once and drops old ones, so it is
# resolved at test time, never hard-coded. Fails if linux-headers-amd64 names another one.
ports_kernel_abi() {
	local img hdr
	ports_apt_update
	img=$(ports_apt apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\([0-9][^ ]*-amd64\)$/\1/p' | head -1)
	hdr=$(ports_apt apt-cache depends linux-headers-amd64 2>/dev/null |
		sed -n 's/^ *Depends: linux-headers-\([0-9][^ ]*-amd64\)$/\1/p' | head -1)
	[ -n "$img" ] || ports_die "cannot resolve the kernel ABI from linux-image-amd64"
	[ "$img" = "$hdr" ] || ports_die "linux-image-amd64 wants $img but linux-headers-amd64 wants $hdr"
	echo "$img"
}

# ports_kernel_headers ABI: a tree to build out-of-tree modules against for kernel ABI, without
# installing anything: linux-headers-ABI, its -common part and linux-kbuild are extracted
# together into $XMM_CACHE/kheaders/ABI (their relative links then resolve inside it).
# Sets PORTS_KHEADERS to .../usr/src/linux-headers-ABI.
ports_kernel_headers() {
	local abi=$1 root=$XMM_CACHE/kheaders/$1 p deps
	if [ ! -f "$root/.done" ]; then
		ports_apt_update
		mkdir -p "$XMM_CACHE/kheaders"
		_ports_lock "kheaders-$abi"
		if [ ! -f "$root/.done" ]; then
			rm -rf "$root" "$root.dl"
			mkdir -p "$root" "$root.dl"
			# The headers package and the two it depends on for the build tree.
			deps=$(ports_apt apt-cache depends "linux-headers-$abi" 2>/dev/null |
				sed -n 's/^ *Depends: \(linux-headers-[^ ]*-common\|linux-kbuild-[^ ]*\)$/\1/p')
			# shellcheck disable=SC2086
			if ! (cd "$root.dl" && ports_apt apt-get download -qq "linux-headers-$abi" $deps) \
				>"$root.dl/log" 2>&1; then
				_ports_unlock
				cat "$root.dl/log" >&2
				ports_die "downloading the headers for $abi failed"
			fi
			for p in "$root.dl"/*.deb; do
				dpkg-deb -x "$p" "$root" || { _ports_unlock; ports_die "dpkg-deb -x $p failed"; }
			done
			rm -rf "$root.dl"
			# The arch tree's Makefile includes the -common one by its absolute path.
			sed -i "s|^include /usr/src/|include $root/usr/src/|" \
				"$root/usr/src/linux-headers-$abi/Makefile"
			touch "$root/.done"
		fi
		_ports_unlock
	fi
	PORTS_KHEADERS=$root/usr/src/linux-headers-$abi
	[ -f "$PORTS_KHEADERS/Makefile" ] || ports_die "no Makefile in $PORTS_KHEADERS"
}

# ports_initramfs OUT STAGING_DIR: pack STAGING_DIR (filled by the caller, /init included)
# into a gzip'd newc cpio at OUT, after adding busybox-static as bin/busybox with a link for
# every applet (unless the staging dir has its own bin/busybox) and a /dev/console node
# (the kernel opens it for /init's stdio before anything is mounted).
ports_initramfs() {
	local out=$1 st=$2 a
	[ -x "$st/init" ] || ports_die "ports_initramfs: $st/init missing or not executable"
	mkdir -p "$st/bin" "$st/dev" "$st/proc" "$st/sys" "$st/tmp"
	if [ ! -e "$st/bin/busybox" ]; then
		[ -x /bin/busybox ] || ports_die "no /bin/busybox (busybox-static)"
		cp /bin/busybox "$st/bin/busybox"
		for a in $("$st/bin/busybox" --list); do
			[ -e "$st/bin/$a" ] || ln -s busybox "$st/bin/$a"
		done
	fi
	[ -e "$st/dev/console" ] || mknod -m 600 "$st/dev/console" c 5 1 ||
		ports_die "mknod dev/console (needs root)"
	(cd "$st" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc --quiet -R 0:0 | gzip -1 >"$out.tmp") ||
		ports_die "packing the initramfs $out failed"
	mv -f "$out.tmp" "$out"
}

# ports_init_lib: print shell helpers for the /init side (busybox sh); write them into the
# staging dir (`ports_init_lib >"$st/lib/ports.sh"`) and `. /lib/ports.sh` in /init. They are:
#   xmm_mounts        mount proc, sysfs, devtmpfs (idempotent)
#   xmm_exit BYTE     write BYTE (decimal) to port 0xf4 (isa-debug-exit: qemu exits with
#                     (BYTE << 1) | 1); powers off if that port does nothing
#   xmm_pass, xmm_fail  xmm_exit with the pass byte / the fail byte
ports_init_lib() {
	cat <<EOF
# libxmm ports: /init helpers (from ports/common.sh ports_init_lib)
XMM_PASS_BYTE=$PORTS_PASS_BYTE
XMM_FAIL_BYTE=$PORTS_FAIL_BYTE
xmm_mounts() {
	[ -e /proc/self ] || mount -t proc proc /proc
	[ -d /sys/kernel ] || mount -t sysfs sysfs /sys
	[ -e /dev/null ] || mount -t devtmpfs devtmpfs /dev
}
xmm_exit() {
	xmm_mounts 2>/dev/null
	[ -c /dev/port ] || mknod /dev/port c 1 4
	# busybox printf writes the byte from its octal escape; dd puts it at offset 0xf4 = 244.
	printf "\\\\\$(printf %o "\$1")" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
	sleep 1
	echo "xmm_exit: port 0xf4 did not end the VM, powering off"
	poweroff -f
}
xmm_pass() { echo "XMM-PORTS: PASS"; xmm_exit \$XMM_PASS_BYTE; }
xmm_fail() { echo "XMM-PORTS: FAIL \$*"; xmm_exit \$XMM_FAIL_BYTE; }
EOF
}

# ports_qemu NAME TIMEOUT_S LOG EXPECT_CODE -- QEMU_ARGS...: boot qemu-system-x86_64
# -nographic -no-reboot with isa-debug-exit on port 0xf4 under `timeout TIMEOUT_S`, the
# console into LOG (and, with XMM_VERBOSE=1, to stdout prefixed with "[NAME] "). Returns 0
# only if qemu's exit code is EXPECT_CODE (e.g. $PORTS_PASS_CODE); otherwise prints which
# boot failed, the exit code (124: timed out) and the last 40 console lines, and returns 1.
# Prints the boot's wall time either way.
ports_qemu() {
	local name=$1 tmo=$2 log=$3 expect=$4 rc t0 t1
	shift 4
	[ "${1:-}" = -- ] && shift
	t0=$(date +%s%N)
	set +e
	if [ "${XMM_VERBOSE:-0}" = 1 ]; then
		timeout -k 5 "$tmo" qemu-system-x86_64 -nographic -no-reboot \
			-device isa-debug-exit,iobase=0xf4,iosize=0x04 "$@" </dev/null 2>&1 |
			tee "$log" | sed -u "s/\r//; s/^/[$name] /"
		rc=${PIPESTATUS[0]}
	else
		timeout -k 5 "$tmo" qemu-system-x86_64 -nographic -no-reboot \
			-device isa-debug-exit,iobase=0xf4,iosize=0x04 "$@" </dev/null >"$log" 2>&1
		rc=$?
	fi
	set -e
	t1=$(date +%s%N)
	PORTS_QEMU_SECONDS=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", (b - a) / 1e9}')
	if [ "$rc" -eq "$expect" ]; then
		echo "    boot $name: exit code $rc as expected, $PORTS_QEMU_SECONDS s"
		return 0
	fi
	echo "FAIL boot $name: qemu exit code $rc, expected $expect$([ "$rc" -eq 124 ] &&
		echo " (timed out after $tmo s)"), $PORTS_QEMU_SECONDS s; last 40 console lines ($log):" >&2
	tail -n 40 "$log" | tr -d '\r' | sed "s/^/[$name] /" >&2
	return 1
}
