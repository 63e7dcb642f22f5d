#!/usr/bin/env bash
# Runs a statically linked test program inside a real Linux kernel under
# QEMU software emulation (TCG, `-cpu max`), which gives us memory protection
# keys (PKU) even on hosts whose CPU lacks them.  See tests/qemu/README.md.
#
# usage: tests/qemu/run.sh WORKDIR BINARY [ARGS...]
#
#   WORKDIR  cache/scratch directory; the kernel is fetched once into
#            WORKDIR/qemu/kernel, the console log goes to
#            WORKDIR/qemu/last-console.log (and logs/BINARY.console.log)
#   BINARY   statically linked program; copied to /bin/ in the guest and run
#            there (cwd /tmp) with ARGS
#
# Exit status: the guest program's exit status (128+N if killed by signal N),
# or 125 if the guest never reported one (boot failure, timeout, crash).
#
# Environment:
#   QEMU_TIMEOUT      seconds before the VM is killed (default 600)
#   QEMU_SMP          guest CPUs (default 2)
#   QEMU_MEM          guest memory in MiB (default 1024)
#   QEMU_APPEND       extra kernel command-line words
#   QEMU_KERNEL       use this vmlinuz instead of fetching Debian's
#   QEMU_EXTRA_FILES  space-separated host files also copied to guest /bin/
#   QEMU_PASS_ENV     space-separated names of host environment variables to
#                     export (with their current values) to the program
set -euo pipefail

die() { echo "qemu/run.sh: $*" >&2; exit 125; }

[ $# -ge 2 ] || { echo "usage: $0 WORKDIR BINARY [ARGS...]" >&2; exit 125; }
WORKDIR=$1
BINARY=$2
shift 2

TIMEOUT=${QEMU_TIMEOUT:-600}
SMP=${QEMU_SMP:-2}
MEM=${QEMU_MEM:-1024}
for n in "$TIMEOUT" "$SMP" "$MEM"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || die "QEMU_TIMEOUT/QEMU_SMP/QEMU_MEM must be positive integers (got '$n')"
done

# ---- tools ----------------------------------------------------------------
missing=()
for t in qemu-system-x86_64 cpio gzip timeout flock; do
  command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
# busybox-static and busybox (dynamic) both ship /bin/busybox and conflict,
# so the package being installed means /bin/busybox is the static one.
BUSYBOX=/bin/busybox
if ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q "install ok installed" \
   || [ ! -x "$BUSYBOX" ]; then
  missing+=("busybox-static")
fi
if [ ${#missing[@]} -gt 0 ]; then
  die "missing tools: ${missing[*]} -- run scripts/install-deps.sh (as root) first"
fi

[ -f "$BINARY" ] || die "no such program: $BINARY"
if command -v readelf >/dev/null 2>&1 \
   && readelf -l "$BINARY" 2>/dev/null | grep -q "program interpreter"; then
  die "$BINARY is dynamically linked; the guest has no libc: build it with -static"
fi
bin_name=$(basename -- "$BINARY")
case $bin_name in
  busybox|sh|init) die "program must not be called '$bin_name'" ;;
esac

mkdir -p "$WORKDIR/qemu"
QDIR=$(cd "$WORKDIR/qemu" && pwd)

# ---- kernel (Debian's stock one, fetched once) -----------------------------
find_vmlinuz() {
  local f
  for f in "$QDIR"/kernel/boot/vmlinuz-*; do
    [ -f "$f" ] && { echo "$f"; return 0; }
  done
  return 1
}

fetch_kernel() {
  # Name of the versioned image package the metapackage currently pulls in,
  # e.g. linux-image-6.1.0-56-amd64.
  local pkg dl
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null \
        | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
  [ -n "$pkg" ] || die "cannot resolve linux-image-amd64's kernel package (apt-cache depends linux-image-amd64 gave nothing): run 'apt-get update'"
  echo "qemu/run.sh: fetching kernel package $pkg into $QDIR/kernel" >&2
  dl=$(mktemp -d "$QDIR/download.XXXXXX")
  # As root, apt's download sandbox user (_apt) may not be able to write
  # into $dl; downloading as root is fine for a package we only unpack.
  local aptopt=()
  [ "$(id -u)" -ne 0 ] || aptopt=(-o APT::Sandbox::User=root)
  if ! (cd "$dl" && apt-get "${aptopt[@]}" -q download "$pkg" >&2); then
    rm -rf "$dl"
    die "apt-get download $pkg failed (stale package lists? run 'apt-get update')"
  fi
  rm -rf "$QDIR/kernel.tmp"
  dpkg -x "$dl"/"$pkg"_*.deb "$QDIR/kernel.tmp"
  dpkg-deb -f "$dl"/"$pkg"_*.deb Package Version > "$QDIR/kernel.tmp/PACKAGE"
  rm -rf "$dl"
  # Everything we use (8250 serial console, tmpfs, devtmpfs, proc, sysfs,
  # gzip initramfs, PKU) is built in (=y) in Debian's config, so the ~400 MB
  # of modules are not needed: drop them.
  rm -rf "$QDIR/kernel.tmp/lib" "$QDIR/kernel.tmp/usr"
  mv "$QDIR/kernel.tmp" "$QDIR/kernel"
}

if [ -n "${QEMU_KERNEL:-}" ]; then
  VMLINUZ=$QEMU_KERNEL
  [ -f "$VMLINUZ" ] || die "QEMU_KERNEL=$VMLINUZ does not exist"
else
  # Several tests may start at once (ctest -j): fetch under a lock.
  exec 9>"$QDIR/.kernel.lock"
  flock 9
  find_vmlinuz >/dev/null || fetch_kernel
  flock -u 9
  exec 9>&-
  VMLINUZ=$(find_vmlinuz) || die "no vmlinuz under $QDIR/kernel/boot"
fi

# ---- initramfs --------------------------------------------------------------
RUNDIR=$(mktemp -d "$QDIR/run.XXXXXX")
trap 'rm -rf "$RUNDIR"' EXIT
ROOT=$RUNDIR/root
mkdir -p "$ROOT"/{bin,dev,proc,sys,tmp,etc}
cp "$BUSYBOX" "$ROOT/bin/busybox"
# Every applet as a symlink in /bin (sh, mount, mkdir, poweroff, cat, ...).
for applet in $("$BUSYBOX" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$ROOT/bin/$applet"
done
# The program (and extra files) win over any applet of the same name.
rm -f "$ROOT/bin/$bin_name"
cp "$BINARY" "$ROOT/bin/$bin_name"
chmod 755 "$ROOT/bin/$bin_name"
for f in ${QEMU_EXTRA_FILES:-}; do
  [ -f "$f" ] || die "QEMU_EXTRA_FILES: no such file: $f"
  rm -f "$ROOT/bin/$(basename -- "$f")"
  cp "$f" "$ROOT/bin/"
done
# A console node lets the kernel give init stdio before devtmpfs is up
# (needs root; /init re-opens /dev/console after mounting devtmpfs anyway).
mknod -m 600 "$ROOT/dev/console" c 5 1 2>/dev/null || true

# Single-quote a word for sh: ' -> '\''
shquote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

{
  printf 'set --'
  for a in "$@"; do printf ' %s' "$(shquote "$a")"; done
  printf '\n'
  for v in ${QEMU_PASS_ENV:-}; do
    [[ $v =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "QEMU_PASS_ENV: bad variable name '$v'"
    if [ -n "${!v+x}" ]; then printf 'export %s=%s\n' "$v" "$(shquote "${!v}")"; fi
  done
} > "$ROOT/etc/test-args"

cat > "$ROOT/init" <<EOF
#!/bin/busybox sh
# Generated by tests/qemu/run.sh.  Every tool is called through
# /bin/busybox so a test program named like an applet cannot shadow it.
bb=/bin/busybox
\$bb mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
\$bb mount -t proc proc /proc
\$bb mount -t sysfs sysfs /sys
\$bb mkdir -p /dev/shm /dev/pts
\$bb mount -t tmpfs -o mode=1777 tmpfs /dev/shm
\$bb mount -t tmpfs -o mode=1777 tmpfs /tmp
export PATH=/bin HOME=/tmp TMPDIR=/tmp
. /etc/test-args
cd /tmp
# The firmware leaves the cursor mid-line: start the marker on a fresh one.
echo
echo QEMU-TEST-BEGIN
$(shquote "/bin/$bin_name") "\$@"
status=\$?
echo
echo "QEMU-TEST-STATUS=\$status"
\$bb poweroff -f
EOF
chmod 755 "$ROOT/init"

INITRD=$RUNDIR/initrd.cpio.gz
(cd "$ROOT" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 > "$INITRD"

# ---- boot -------------------------------------------------------------------
ACCEL=(-accel "tcg,thread=multi")
[ "$SMP" -gt 1 ] || ACCEL=(-accel tcg)

LOG=$QDIR/last-console.log
RUNLOG=$RUNDIR/console.log
echo "qemu/run.sh: booting $(basename "$VMLINUZ") to run /bin/$bin_name${*:+ $*} (timeout ${TIMEOUT}s)"
# Drop CRs and the firmware's terminal escape sequences from the console.
CONSOLE_FILTER=$'s/\r//g; s/\x1b\\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g'
start=$(date +%s)
set +e
# No terminal needed: stdin is /dev/null, so QEMU does not put a tty into raw
# mode; -nographic sends the serial console (muxed with the monitor) to stdout.
timeout -k 10 "$TIMEOUT" qemu-system-x86_64 \
  "${ACCEL[@]}" -cpu max -smp "$SMP" -m "$MEM" \
  -nographic -no-reboot -nic none \
  -kernel "$VMLINUZ" -initrd "$INITRD" \
  -append "console=ttyS0 panic=-1 quiet ${QEMU_APPEND:-}" \
  </dev/null 2>&1 | sed -u "$CONSOLE_FILTER" | tee "$RUNLOG"
rcs=("${PIPESTATUS[@]}")
set -e
end=$(date +%s)
# Per-program copy too, since ctest -j runs several tests at once.
mkdir -p "$QDIR/logs"
cp "$RUNLOG" "$QDIR/logs/$bin_name.console.log"
cp "$RUNLOG" "$LOG.tmp.$$" && mv -f "$LOG.tmp.$$" "$LOG"

status=$(sed -n 's/^QEMU-TEST-STATUS=\([0-9][0-9]*\)$/\1/p' "$RUNLOG" | tail -n 1)
if [ -z "$status" ]; then
  if [ "${rcs[0]}" -eq 124 ] || [ "${rcs[0]}" -eq 137 ]; then
    why="timed out after ${TIMEOUT}s"
  else
    why="qemu exited with ${rcs[0]}"
  fi
  if grep -q 'QEMU-TEST-BEGIN$' "$RUNLOG"; then
    why="$why; the program started but reported no status"
  else
    why="$why; the guest never reached QEMU-TEST-BEGIN (boot failure)"
  fi
  die "no QEMU-TEST-STATUS marker ($why); console log: $QDIR/logs/$bin_name.console.log"
fi
echo "qemu/run.sh: /bin/$bin_name exited with $status ($((end - start))s in QEMU)"
exit "$status"
