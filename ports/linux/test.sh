#!/usr/bin/env bash
# ports/linux/test.sh - libxmm's core inside a real Linux kernel (issue 11).
#
#   1. Debian's current 6.1 kernel: the ABI resolved from linux-image-amd64's dependency
#      (never hard-coded), the image's vmlinuz and the matching headers extracted into
#      $XMM_CACHE (nothing installed on the host but the tools, via scripts/setup.sh).
#   2. xmm_selftest.ko built against those headers (ports/linux/module, the core by
#      wildcard over libxmm/core), timed.
#   3. Booted under qemu-system-x86_64 (TCG) with a busybox initramfs whose /init checks
#      bad parameters (-EINVAL), a run with an injected failure (-EIO, everything freed),
#      then a clean run (only the clean run in the patched boot), and reports through
#      isa-debug-exit:
#        bare   -smp 2, two NUMA nodes, node 1 with memory and no CPU
#        dom0   Xen PV dom0 under Debian's xen-hypervisor-4.17-amd64, -smp 2
#        patched  the same under the Xen that ports/xen builds (libxmm inside), if it left
#               one at $XMM_CACHE/xen/patched-xen (or $XMM_PATCHED_XEN names one);
#               otherwise "skipped: no patched Xen built"
#   4. Passes only when each boot exits through isa-debug-exit with the pass code AND the
#      expected summary lines are on its console.
#
# Environment: XMM_CACHE (default /var/cache/libxmm), XMM_VERBOSE=1 (consoles to stdout),
# XMM_LINUX_BOOT_TIMEOUT (seconds per boot, default 300), XMM_PATCHED_XEN (a hypervisor
# ELF or .gz to boot as the third boot), XMM_LINUX_ABI (pin a kernel ABI), XMM_LINUX_BOOTS
# (the boots to run, default "bare dom0 patched"; a subset is for development only).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=../common.sh
source "$root/ports/common.sh"

timeout_s=${XMM_LINUX_BOOT_TIMEOUT:-300}
boots=" ${XMM_LINUX_BOOTS:-bare dom0 patched} "
bare_s=skipped dom0_s=skipped patched_s=skipped
work=$root/build/linux
t_start=$SECONDS
mkdir -p "$work"

ports_step "linux: host packages"
ports_setup_host

ports_step "linux: kernel"
ports_apt_update
abi=${XMM_LINUX_ABI:-$(ports_kernel_abi)}
ports_deb "linux-image-$abi" >/dev/null
kernel=$PORTS_DEB_DIR/boot/vmlinuz-$abi
[ -f "$kernel" ] || ports_die "no $kernel in linux-image-$abi"
ports_kernel_headers "$abi"
echo "    kernel ABI $abi (linux-image-$abi $PORTS_DEB_VERSION), headers $PORTS_KHEADERS"

ports_step "linux: build xmm_selftest.ko"
t0=$(date +%s%N)
make -s -C "$here/module" KDIR="$PORTS_KHEADERS" B="$work/module" >"$work/build.log" 2>&1 ||
	{ cat "$work/build.log"; ports_die "module build failed"; }
t1=$(date +%s%N)
if grep -q "warning:" "$work/build.log"; then
	cat "$work/build.log"
	ports_die "the module build has warnings"
fi
ko=$work/module/xmm_selftest.ko
echo "    $ko: $(stat -c %s "$ko") bytes, built in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", (b - a) / 1e9}') s, $(ls "$work"/module/core/*.c | wc -l) core files"

ports_step "linux: initramfs"
st=$work/initramfs
rm -rf "$st"
mkdir -p "$st/lib"
cp "$ko" "$st/xmm_selftest.ko"
ports_init_lib >"$st/lib/ports.sh"
cat >"$st/init" <<'EOF'
#!/bin/sh
# /init: the module's bad-input, failure-cleanup and clean runs, then pass or fail.
export PATH=/bin
. /lib/ports.sh
xmm_mounts
dmesg -n 1 # the console shows only what this script prints (the module's lines included)
# busybox insmod retries a failed finit_module with init_module: a failing load runs twice,
# which also shows that a second load after a failure runs clean.
echo "XMM-INIT: $(uname -r), hypervisor $(cat /sys/hypervisor/type 2>/dev/null || echo none), $(nproc) CPUs, nodes $(cat /sys/devices/system/node/online)"

# try NAME WANT ARGS...: insmod with ARGS; WANT is ok, EINVAL or EIO. Prints the kernel's lines.
try() {
	name=$1 want=$2
	shift 2
	dmesg -c >/dev/null
	if insmod /xmm_selftest.ko "$@" 2>/tmp/err; then got=ok; else got=$(cat /tmp/err); fi
	dmesg -c | sed "s/^/[$name] /"
	case $want:$got in
	ok:ok | EINVAL:*"Invalid argument"* | EIO:*"Input/output error"*) echo "XMM-INIT: $name: $want as expected" ;;
	*) xmm_fail "$name: wanted $want, got: $got" ;;
	esac
	[ "$got" = ok ] && rmmod xmm_selftest
	grep -q "^xmm_selftest " /proc/modules && xmm_fail "$name: module still loaded"
	return 0
}
# xmm_init=quick on the kernel command line: the clean run only (the bad-input and cleanup
# checks are the module's own, the same under any hypervisor).
if ! grep -q "xmm_init=quick" /proc/cmdline; then
	try bad-zero EINVAL scrub_pages=0
	try bad-huge EINVAL scrub_pages=4000000000
	try bad-name EINVAL inject=nosuchtest
	try bad-list EINVAL tests=zero,nosuchtest
	small="flush_ops=2000 flush_ms=20 scrub_pages=256 p2m_pfns=4096 p2m_ops=500 zero_pages=16"
	small="$small tests=flush-random,flush-concurrent,scrub,p2m-linear,p2m-portable,zero"
	try inject-scrub EIO $small inject=scrub
	try inject-p2m EIO $small inject=p2m-linear
	try run ok
	try run-again ok $small
else
	try run ok
fi
xmm_pass
EOF
chmod +x "$st/init"
ports_initramfs "$work/initramfs.cpio.gz" "$st"
echo "    $work/initramfs.cpio.gz: $(stat -c %s "$work/initramfs.cpio.gz") bytes"

# check_console NAME LOG PATTERN...: every PATTERN (grep -E) must be on the console.
check_console() {
	local name=$1 log=$2 pat
	shift 2
	# A plain copy, not a pipe: grep -q would end tr early, and pipefail call that a failure.
	tr -d '\r' <"$log" >"$log.txt"
	for pat in "$@"; do
		if ! grep -Eq -- "$pat" "$log.txt"; then
			echo "FAIL boot $name: console lacks /$pat/; last 40 lines ($log):" >&2
			tail -n 40 "$log.txt" | sed "s/^/[$name] /" >&2
			ports_die "boot $name: expected console lines missing"
		fi
	done
	grep -E "\[run\] .*xmm_selftest: (.*: (pass|skip|FAIL)|summary|dom0-p2m: .* random lookups)" "$log.txt" |
		sed "s/^\[run\] \[ *[0-9.]*\] xmm_selftest: /    $name: /" || true
}
quick_lines=(
	"XMM-INIT: run: ok as expected"
	"\[run\] .*xmm_selftest: flush-random: pass"
	"\[run\] .*xmm_selftest: flush-concurrent: pass"
	"\[run\] .*xmm_selftest: scrub: pass"
	"\[run\] .*xmm_selftest: p2m-linear: pass"
	"\[run\] .*xmm_selftest: p2m-portable: pass"
	"\[run\] .*xmm_selftest: zero: pass"
	"XMM-PORTS: PASS"
)
common_lines=(
	"${quick_lines[@]}"
	"XMM-INIT: bad-zero: EINVAL as expected"
	"invalid parameter scrub_pages=0"
	"XMM-INIT: bad-huge: EINVAL as expected"
	"XMM-INIT: inject-scrub: EIO as expected"
	"\[inject-scrub\] .*summary: .* left allocated: 0 core pages, 0 test bytes"
	"XMM-INIT: inject-p2m: EIO as expected"
	"XMM-INIT: run-again: ok as expected"
)

if [[ $boots == *" bare "* ]]; then
ports_step "linux: boot bare (-smp 2, node 1 without CPUs)"
log=$work/bare.log
ports_qemu bare "$timeout_s" "$log" "$PORTS_PASS_CODE" -- \
	-m 1024 -smp 2 \
	-object memory-backend-ram,id=m0,size=512M -object memory-backend-ram,id=m1,size=512M \
	-numa node,nodeid=0,cpus=0-1,memdev=m0 -numa node,nodeid=1,memdev=m1 \
	-kernel "$kernel" -initrd "$work/initramfs.cpio.gz" \
	-append "console=ttyS0 loglevel=4 panic=-1" || ports_die "boot bare failed"
check_console bare "$log" "${common_lines[@]}" \
	"XMM-INIT: .*hypervisor none, 2 CPUs, nodes 0-1" \
	"\[run\] .*scrub: pass .* on 2 nodes \(1 without CPUs\)" \
	"\[run\] .*dom0-p2m: skip" \
	"\[run\] .*summary: 7 tests, 6 passed, 0 failed, 1 skipped; left allocated: 0 core pages, 0 test bytes; 0 assertion failures"
bare_s=$PORTS_QEMU_SECONDS
fi

# boot_dom0 NAME XEN_ELF [quick]: the same initramfs in a Xen PV dom0; quick: the clean run only.
boot_dom0() {
	local name=$1 xen=$2 log=$work/$1.log extra="" lines=("${common_lines[@]}")
	if [ "${3:-}" = quick ]; then
		extra=" xmm_init=quick"
		lines=("${quick_lines[@]}")
	fi
	ports_qemu "$name" "$timeout_s" "$log" "$PORTS_PASS_CODE" -- \
		-m 2048 -smp 2 -kernel "$xen" \
		-append "dom0_mem=512M,max:512M dom0_max_vcpus=2 console=com1 com1=115200,8n1 loglvl=warning" \
		-initrd "$kernel console=hvc0 loglevel=4 panic=-1$extra,$work/initramfs.cpio.gz" ||
		ports_die "boot $name failed"
	check_console "$name" "$log" "${lines[@]}" \
		"XMM-INIT: .*hypervisor xen, 2 CPUs" \
		"\[run\] .*dom0-p2m: pass .* mismatches linear 0, portable 0" \
		"\[run\] .*summary: 7 tests, 7 passed, 0 failed, 0 skipped; left allocated: 0 core pages, 0 test bytes; 0 assertion failures"
}

if [[ $boots == *" dom0 "* ]]; then
ports_step "linux: boot as Xen PV dom0 (Debian's Xen 4.17)"
ports_deb xen-hypervisor-4.17-amd64 >/dev/null
xen_deb_version=$PORTS_DEB_VERSION
xen_gz=$(ls "$PORTS_DEB_DIR"/boot/xen-4.17-amd64.gz 2>/dev/null || ls "$PORTS_DEB_DIR"/boot/xen-*.gz | head -1)
zcat "$xen_gz" >"$work/xen-debian"
echo "    xen-hypervisor-4.17-amd64 $xen_deb_version"
boot_dom0 dom0 "$work/xen-debian"
dom0_s=$PORTS_QEMU_SECONDS
fi

ports_step "linux: boot as dom0 of the patched Xen (ports/xen)"
patched=${XMM_PATCHED_XEN:-$XMM_CACHE/xen/patched-xen}
if [[ $boots != *" patched "* ]]; then
	echo "    not selected (XMM_LINUX_BOOTS)"
elif [ -e "$patched" ]; then
	real=$(readlink -f "$patched")
	case $real in
	*.gz) zcat "$real" >"$work/xen-patched" ;;
	*) cp "$real" "$work/xen-patched" ;;
	esac
	echo "    patched hypervisor: $real"
	boot_dom0 patched "$work/xen-patched" quick
	patched_s=$PORTS_QEMU_SECONDS
else
	echo "    skipped: no patched Xen built ($patched missing; ports/xen/test.sh leaves it there)"
fi

echo "=== linux: passed in $((SECONDS - t_start)) s (boot to pass: bare $bare_s s, dom0 $dom0_s s, patched $patched_s s)"
