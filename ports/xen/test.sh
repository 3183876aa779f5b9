#!/usr/bin/env bash
# ports/xen/test.sh - libxmm inside Xen 4.17: patch, build both configs, boot each with a dom0.
#
#   1. Xen's source from Debian (`apt-get source xen` through private lists: ports_source),
#      the newest version that downloads, or $XMM_XEN_VERSION.
#   2. The series ports/xen/patches/*.patch applied to a copy, libxmm's core copied in.
#   3. The hypervisor built twice from that one tree: CONFIG_LIBXMM=n (stock) and =y.
#      Cached in $XMM_CACHE/xen/build/KEY/, KEY = source version + patches + core + headers.
#   4. Each booted under qemu (TCG, -smp 4, -m 2048) with Debian's 6.1 kernel as PV dom0
#      (dom0_max_vcpus=2, scrub_domheap=1) and a busybox /init that balloons 256 MiB out
#      and back in, then reports through isa-debug-exit.
#   5. Pass only if both boot and pass in dom0, and the libxmm build's console shows its
#      boot lines, boot-time memory scrubbed by libxmm, and the ballooned-out pages put on
#      the queues and all of them scrubbed or taken.
#
# Leaves the patched hypervisor ELF at $XMM_CACHE/xen/patched-xen (its real path is
# written to $XMM_CACHE/xen/patched-xen.path) for the Linux port's test.
#
# Environment: XMM_CACHE (default /var/cache/libxmm), XMM_XEN_VERSION (pin a source
# version), XMM_VERBOSE=1 (console to stdout), XMM_XEN_BOOT_TIMEOUT (default 240 s).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=../common.sh
source "$root/ports/common.sh"

boot_timeout=${XMM_XEN_BOOT_TIMEOUT:-240}
balloon_mib=256
# Xen 4.17 matches option names exactly: the domheap scrub option is "scrub-domheap"
# ("scrub_domheap=1" is silently ignored and nothing freed by dom0 would be scrubbed).
xen_cmdline_common="console=com1 com1=115200,8n1 console_timestamps=boot loglvl=all guest_loglvl=all dom0_mem=768M,max:768M dom0_max_vcpus=2 scrub-domheap=1 bootscrub=idle"
t_start=$SECONDS

ports_step "xen: host packages"
ports_setup_host

ports_step "xen: source"
ports_source xen ${XMM_XEN_VERSION:+"$XMM_XEN_VERSION"} >/dev/null
src=$PORTS_SRC_DIR
xen_version=$PORTS_SRC_VERSION
echo "    Xen source package: xen $xen_version ($src)"
[ -f "$src/xen/common/page_alloc.c" ] || ports_die "$src is not a Xen source tree"

# The build key: everything that goes into the two hypervisors.
key=$(
	{
		echo "xen $xen_version"
		cat "$here"/patches/*.patch
		cat "$here"/xmm_platform.h "$here"/xmm_platform_types.h "$here"/copy-core.sh
		cat "$root"/libxmm/core/* "$root"/include/xmm/*.h
		echo "gcc $(gcc -dumpfullversion)"
	} | sha256sum | cut -c1-16
)
build=$XMM_CACHE/xen/build/$key
mkdir -p "$XMM_CACHE/xen/build"

ports_step "xen: patch and build (key $key)"
if [ -f "$build/.done" ]; then
	echo "    cached: $build"
else
	_ports_lock "xen-build-$key"
	if [ ! -f "$build/.done" ]; then
		rm -rf "$build"
		mkdir -p "$build"
		tree=$build/tree
		cp -a "$src" "$tree"
		for p in "$here"/patches/*.patch; do
			if ! patch -p1 -d "$tree" --dry-run -s <"$p" >"$build/patch.log" 2>&1; then
				_ports_unlock
				cat "$build/patch.log" >&2
				rm -rf "$tree"
				ports_die "$(basename "$p") does not apply to xen $xen_version (see above)"
			fi
			patch -p1 -d "$tree" -s <"$p"
			echo "    applied $(basename "$p")"
		done
		"$here/copy-core.sh" "$tree"
		for cfg in stock libxmm; do
			t0=$(date +%s.%N)
			make -C "$tree/xen" clean >/dev/null 2>&1 || true
			if ! {
				make -C "$tree/xen" defconfig &&
					if [ $cfg = libxmm ]; then
						echo CONFIG_LIBXMM=y >>"$tree/xen/.config" &&
							make -C "$tree/xen" olddefconfig
					fi &&
					make -C "$tree/xen" -j2
			} >"$build/build-$cfg.log" 2>&1; then
				_ports_unlock
				rm -rf "$tree"
				grep -E "error|Error" "$build/build-$cfg.log" | head -20 >&2
				tail -20 "$build/build-$cfg.log" >&2
				ports_die "building the $cfg hypervisor failed (log: $build/build-$cfg.log)"
			fi
			t1=$(date +%s.%N)
			grep -q "^CONFIG_LIBXMM=y" "$tree/xen/.config" && have=y || have=n
			[ "$have" = "$([ $cfg = libxmm ] && echo y || echo n)" ] ||
				ports_die "the $cfg build has CONFIG_LIBXMM=$have"
			cp "$tree/xen/xen" "$build/xen-$cfg"
			cp "$tree/xen/.config" "$build/config-$cfg"
			awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f\n", b - a}' >"$build/build-$cfg.seconds"
			echo "    built $cfg hypervisor in $(cat "$build/build-$cfg.seconds") s (make -j2)"
		done
		rm -rf "$tree"
		touch "$build/.done"
	fi
	_ports_unlock
fi
for cfg in stock libxmm; do
	echo "    build time $cfg: $(cat "$build/build-$cfg.seconds") s"
done
ln -sfn "$build/xen-libxmm" "$XMM_CACHE/xen/patched-xen"
echo "$build/xen-libxmm" >"$XMM_CACHE/xen/patched-xen.path"
echo "    patched hypervisor: $build/xen-libxmm (path in $XMM_CACHE/xen/patched-xen.path)"

ports_step "xen: dom0 kernel"
abi=$(ports_kernel_abi)
ports_deb "linux-image-$abi" >/dev/null
vmlinuz=$PORTS_DEB_DIR/boot/vmlinuz-$abi
[ -f "$vmlinuz" ] || ports_die "no $vmlinuz in linux-image-$abi"
echo "    dom0 kernel: linux-image-$abi $PORTS_DEB_VERSION"

ports_step "xen: initramfs"
run=$XMM_CACHE/xen/run
rm -rf "$run"
mkdir -p "$run/st/lib/modules" "$run/st/bin"
ports_init_lib >"$run/st/lib/ports.sh"
# xenkeys: debug keys from dom0 (no toolstack here), against this Xen's public headers.
gcc -static -O2 -Wall -Werror -iquote "$src/xen/include/public" -o "$run/st/bin/xenkeys" \
	"$here/dom0/xenkeys.c" || ports_die "building dom0/xenkeys.c failed"
privcmd=$PORTS_DEB_DIR/lib/modules/$abi/kernel/drivers/xen/xen-privcmd.ko
[ -f "$privcmd" ] || ports_die "no xen-privcmd.ko in linux-image-$abi"
cp "$privcmd" "$run/st/lib/modules/"
cat >"$run/st/init" <<EOF
#!/bin/sh
# dom0 /init: balloon ${balloon_mib} MiB out to Xen (which must scrub it: scrub_domheap=1)
# and back in, then report through isa-debug-exit.
. /lib/ports.sh
xmm_mounts
echo "XMM-XEN: /init reached, dom0 up \$(cut -d' ' -f1 /proc/uptime) s"
insmod /lib/modules/xen-privcmd.ko || xmm_fail "insmod xen-privcmd"
keys() { echo "XMM-XEN: debug keys \$1 (\$2)"; xenkeys "\$1" || xmm_fail "xenkeys \$1"; sleep 0.5; }
keys XH "before the balloon"
[ "\$(cat /sys/hypervisor/type 2>/dev/null)" = xen ] || xmm_fail "not running on Xen"
b=/sys/devices/system/xen_memory/xen_memory0
[ -w \$b/target_kb ] || xmm_fail "no balloon driver (\$b/target_kb)"
cur() { cat \$b/info/current_kb; }
# wait_kb OP KB: wait up to 60 s until current_kb OP KB
wait_kb() {
	i=0
	while ! [ "\$(cur)" "\$1" "\$2" ]; do
		i=\$((i + 1)); [ \$i -le 600 ] || return 1; sleep 0.1
	done
}
orig=\$(cur)
out=\$((orig - ${balloon_mib} * 1024))
echo "XMM-XEN: balloon out from \$orig kB to \$out kB"
echo \$out >\$b/target_kb
wait_kb -le \$out || xmm_fail "balloon out stuck at \$(cur) kB"
echo "XMM-XEN: ballooned out: \$(cur) kB"
# Probe twice a second for 5 s: the console then shows when the freed memory was all
# scrubbed (stock: H stops printing "unscrubbed pages"; libxmm: X says "0 pending").
i=1
while [ \$i -le 10 ]; do keys XH "probe \$i"; i=\$((i + 1)); done
keys XH "after the balloon out"
echo \$orig >\$b/target_kb
wait_kb -ge \$orig || xmm_fail "balloon in stuck at \$(cur) kB"
echo "XMM-XEN: ballooned back in: \$(cur) kB"
sleep 1
keys XH "after the balloon in"
sleep 1
xmm_pass
EOF
chmod +x "$run/st/init"
ports_initramfs "$run/initramfs.cpio.gz" "$run/st"

# boot NAME XEN_ELF: boot it with the dom0, console lines timestamped (s since qemu start)
# into $run/NAME.log; returns ports_qemu's status.
boot() {
	local name=$1 elf=$2 fifo=$run/$1.fifo rc
	rm -f "$fifo"
	mkfifo "$fifo"
	# bash reads the fifo unbuffered, so each line gets the time it arrived
	(
		t0=${EPOCHREALTIME/./}
		while IFS= read -r line; do
			t=${EPOCHREALTIME/./}
			printf '[%4d.%02d] %s\n' $(((t - t0) / 1000000)) $(((t - t0) / 10000 % 100)) "$line"
		done
	) <"$fifo" >"$run/$name.log" &
	local reader=$!
	set +e
	ports_qemu "xen-$name" "$boot_timeout" "$fifo" "$PORTS_PASS_CODE" -- \
		-machine pc -m 2048 -smp 4 \
		-kernel "$elf" -append "$xen_cmdline_common" \
		-initrd "$vmlinuz console=hvc0 earlyprintk=xen panic=-1,$run/initramfs.cpio.gz"
	rc=$?
	set -e
	wait "$reader" || true
	rm -f "$fifo"
	return $rc
}

# at PATTERN LOG: the timestamp of the first console line matching PATTERN
at() { grep -a -m1 -E "$1" "$2" | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p'; }

ports_step "xen: boot stock"
boot stock "$build/xen-stock" || ports_die "the stock hypervisor did not boot dom0 to a pass"
ports_step "xen: boot libxmm"
boot libxmm "$build/xen-libxmm" || ports_die "the libxmm hypervisor did not boot dom0 to a pass"

ports_step "xen: check the console"
L=$run/libxmm.log S=$run/stock.log
show() { grep -a -E "$1" "$2" | tr -d '\r' | sed 's/^/    /'; }
need() { grep -a -q -E "$1" "$2" || { tail -n 40 "$2" | tr -d '\r' >&2; ports_die "$3 (no line matching '$1' in $2)"; }; }
need 'XMM-PORTS: PASS' "$S" "stock: dom0 did not pass"
need 'XMM-PORTS: PASS' "$L" "libxmm: dom0 did not pass"
need 'libxmm: flush filter on:' "$L" "libxmm: no flush boot line"
need 'libxmm: scrub queues on:' "$L" "libxmm: no scrub boot line"
if grep -a -q -E 'libxmm:' "$S"; then ports_die "the stock build printed libxmm lines"; fi
# scrub_line N: the counters line of the scrub queues after drain #N ("last": the last one)
scrub_lines() { grep -a -E 'libxmm: scrub drained #[0-9]+: scrub:' "$L" | tr -d '\r'; }
# field WORD LINE: the number after WORD (or before it, for "N WORD,") in LINE
num_after() { echo "$2" | sed -n "s/.*$1 \([0-9]*\).*/\1/p"; }
num_before() { echo "$2" | sed -n "s/.* \([0-9]*\) $1.*/\1/p"; }
need 'libxmm: [1-9][0-9]* dirty boot-time pages queued' "$L" "libxmm: no boot-time memory went to the queues"
first=$(scrub_lines | head -1)
last=$(scrub_lines | tail -1)
[ -n "$first" ] || ports_die "libxmm: the scrub queues never drained (no 'scrub drained' line)"
[ "$(num_after boot "$first")" -gt 0 ] && [ "$(num_before scrubbed "$first")" -gt 0 ] ||
	ports_die "libxmm: boot-time memory was not scrubbed by libxmm: $first"
# The balloon: the queues drained after it, with at least the ballooned-out pages freed dirty
# (scrub_domheap=1) and every page put handed back (scrubbed or taken), none pending.
ballooned=$((balloon_mib * 256))
put=$(num_before "pages put" "$last") freed=$(num_after freed "$last")
scrubbed=$(num_before scrubbed "$last") taken=$(num_before taken "$last")
pending=$(num_before pending "$last")
[ "${freed:-0}" -ge $ballooned ] ||
	ports_die "libxmm: the last drain shows ${freed:-0} pages freed, not the $ballooned ballooned out: $last"
[ "${pending:-1}" -eq 0 ] && [ $((scrubbed + taken)) -eq "$put" ] ||
	ports_die "libxmm: pages put ($put) are not all scrubbed ($scrubbed) or taken ($taken): $last"

# The figures (wall seconds since qemu started; Xen's own clock in its lines' brackets).
echo "--- figures (host: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), qemu TCG)"
for cfg in stock libxmm; do
	echo "    build $cfg: $(cat "$build/build-$cfg.seconds") s"
done
for f in "$S" "$L"; do
	n=$(basename "$f" .log)
	echo "    $n: /init reached at $(at 'XMM-XEN: /init reached' "$f") s after qemu started" \
		"($(grep -a -m1 -o 'dom0 up [0-9.]* s' "$f") after dom0's kernel started)"
done
echo "    libxmm boot lines:"
show 'libxmm: (flush filter on|scrub queues on|[0-9]+ dirty boot-time)' "$L"
echo "    libxmm, boot-time memory drained:"
show 'libxmm: scrub drained #1:' "$L"
for f in "$S" "$L"; do
	n=$(basename "$f" .log)
	echo "    $n, debug keys X and H after the balloon out and after the balloon in:"
	sed -n '/XMM-XEN: debug keys XH (after the balloon out)/,$p' "$f" |
		grep -a -E 'debug keys XH \(after|libxmm: debug key|unscrubbed pages' | tr -d '\r' | sed 's/^/    /'
done
# scrubbed_at LOG: the time of the first probe after the balloon out that shows nothing left
# to scrub (no "unscrubbed pages" from H, no X line with pages pending).
scrubbed_at() {
	tr -d '\r' <"$1" | awk '
		function num(s) { sub(/^\[ */, "", s); sub(/\].*/, "", s); return s + 0 }
		/XMM-XEN: balloon out from/ { t0 = num($0) }
		/XMM-XEN: debug keys XH \(probe/ { if (open && clean && !done) { print t0, tp; done = 1 }
			open = 1; clean = 1; tp = num($0); next }
		/XMM-XEN: debug keys/ { if (open && clean && !done) { print t0, tp; done = 1 }; open = 0 }
		open && /unscrubbed pages/ { clean = 0 }
		open && /libxmm: debug key: scrub:/ && !/ 0 pending/ { clean = 0 }'
}
for f in "$S" "$L"; do
	read -r t0 tp < <(scrubbed_at "$f") || true
	if [ -n "${tp:-}" ]; then
		echo "    $(basename "$f" .log): balloon out asked at $t0 s; first probe with nothing left to scrub at $tp s:" \
			"$(awk -v a="$t0" -v b="$tp" 'BEGIN{printf "%.2f", b - a}') s (probes every ~0.5 s)"
	else
		echo "    $(basename "$f" .log): memory still unscrubbed at every probe"
	fi
	t0="" tp=""
done
t_out=$(at 'XMM-XEN: balloon out from' "$L")
t_last=$(sed -n '/XMM-XEN: balloon out from/,/XMM-XEN: debug keys XH (after the balloon out)/p' "$L" |
	grep -a 'libxmm: scrub drained #[0-9]*: in' | tail -1 | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p')
[ -n "$t_last" ] && echo "    libxmm: balloon out asked at $t_out s, queues last drained (drain line) at $t_last s:" \
	"$(awk -v a="$t_out" -v b="$t_last" 'BEGIN{printf "%.2f", b - a}') s to free and scrub ${balloon_mib} MiB"
true
echo "=== xen passed in $((SECONDS - t_start)) s (xen $xen_version, dom0 $abi; logs in $run)"
