#!/usr/bin/env bash
# test_install.sh - what `make install` installs, and that it is usable:
#   - a staged install (DESTDIR, as a package build does) puts every file in
#     place under the build's prefix, and runs no ldconfig;
#   - libshmcached.so exports exactly the functions include/shmcached.h
#     declares, as src/libshmcached.map lists them (nm -D --defined-only);
#   - a tiny program built with `pkg-config shmcached` links the shared
#     library, one built with `pkg-config shmcached-static` links it
#     statically (ldd), one with -static is fully static; all three run;
#   - a second install keeps a changed /etc/shmcached.conf (the new default
#     beside it, .dist), and uninstall removes everything but that file;
#   - PREFIX reaches the pkg-config files and the systemd unit (a scratch
#     configure for /usr, the Debian package's prefix).
#
#   bash tests/test_install.sh BUILD_DIR
#
# Last line "N passed, M failed"; exit status 0 only if none failed.
set -uo pipefail
BUILD=$(cd "${1:?usage: test_install.sh BUILD_DIR}" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
STAGE=$TMP/stage
PASS=0
FAIL=0
pass() { PASS=$((PASS + 1)); }
fail() { FAIL=$((FAIL + 1)); echo "FAIL: $*"; }
check() { # DESC COMMAND...
    local d=$1; shift
    if "$@"; then pass; else fail "$d"; fi
}
cache_var() { sed -n "s/^$1:[A-Z]*=//p" "$BUILD/CMakeCache.txt"; }

PREFIX=$(cache_var CMAKE_INSTALL_PREFIX)
LIBDIR=$(cache_var CMAKE_INSTALL_LIBDIR)
SYSCONF=$(cache_var CMAKE_INSTALL_SYSCONFDIR)
case $SYSCONF in /*) ;; *) SYSCONF=$PREFIX/$SYSCONF ;; esac
case $LIBDIR in /*) ;; *) LIBDIR=$PREFIX/$LIBDIR ;; esac
SANITIZED=$(cache_var SHMC_SANITIZE)

# ---- a staged install ------------------------------------------------
out=$(DESTDIR=$STAGE cmake --install "$BUILD" 2>&1)
check "cmake --install with DESTDIR: exit 0"$'\n'"$out" test $? = 0
check "no ldconfig under DESTDIR" bash -c '! grep -qi ldconfig <<<"$1"' _ "$out"
P=$STAGE$PREFIX
for f in bin/shmcached bin/shmcachectl include/shmcached.h; do
    check "installed: $PREFIX/$f" test -e "$P/$f"
done
for f in libshmcached.so libshmcached.so.0 libshmcached.a pkgconfig/shmcached.pc \
         pkgconfig/shmcached-static.pc; do
    check "installed: $LIBDIR/$f" test -e "$STAGE$LIBDIR/$f"
done
for f in share/man/man1/shmcached.1 share/man/man1/shmcachectl.1 share/man/man3/libshmcached.3 \
         share/man/man3/shmc_open.3 lib/systemd/system/shmcached.service lib/sysusers.d/shmcached.conf; do
    check "installed: $PREFIX/$f" test -e "$P/$f"
done
check "installed: $SYSCONF/shmcached.conf" test -e "$STAGE$SYSCONF/shmcached.conf"
# the libmemcached preload, where it was built (libmemcached-dev): one file
# in the libdir, exporting libmemcached's calls and none of the library's
if [[ -f $BUILD/libshmcached-memcached.so ]]; then
    PRE=$STAGE$LIBDIR/libshmcached-memcached.so
    check "installed: $LIBDIR/libshmcached-memcached.so" test -e "$PRE"
    check "the preload exports memcached_get and no shmc_ call" bash -c \
        'nm -D --defined-only "$1" | grep -qw memcached_get && ! nm -D --defined-only "$1" | grep -q " shmc_"' _ "$PRE"
fi
# the Python module, where it was built (python3-dev), in a directory of
# Debian's python3's sys.path once unstaged, and importable from there
PYDIR=$(cache_var SHMC_PYTHON_DIR)
if [ -n "$PYDIR" ]; then
    check "the Python module's directory is in python3's sys.path: $PREFIX/$PYDIR" \
        /usr/bin/python3 -c 'import sys; assert sys.argv[1] in sys.path' "$PREFIX/$PYDIR"
    # python3 is not sanitized: in an ASan build the module needs the runtimes preloaded
    PYENV=()
    if [ "$(cache_var SHMC_SANITIZE)" = ON ]; then
        CC=$(cache_var CMAKE_C_COMPILER)
        PYENV=("LD_PRELOAD=$("$CC" -print-file-name=libasan.so) $("$CC" -print-file-name=libubsan.so)"
               ASAN_OPTIONS=detect_leaks=0)
    fi
    check "installed: the package shmcached, importable" env "${PYENV[@]}" PYTHONPATH="$P/$PYDIR" /usr/bin/python3 -c \
        'import shmcached, sys; assert shmcached.__file__.startswith(sys.argv[1]); shmcached.Client' "$P/$PYDIR"
fi
check "shmc_open.3 sources libshmcached.3" grep -qx '.so man3/libshmcached.3' "$P/share/man/man3/shmc_open.3"
check "the unit runs the installed server" grep -q "^ExecStart=$PREFIX/bin/shmcached " "$P/lib/systemd/system/shmcached.service"
check "the unit reads the conf file" grep -qx "EnvironmentFile=-$SYSCONF/shmcached.conf" "$P/lib/systemd/system/shmcached.service"

# ---- the exported symbols --------------------------------------------
LIB=$STAGE$LIBDIR/libshmcached.so.0
grep -oE '^[A-Za-z_][A-Za-z_0-9 ]*[ *](shmc_[a-z_]+)\(' "$ROOT/include/shmcached.h" |
    grep -oE 'shmc_[a-z_]+\($' | tr -d '(' | sort -u >"$TMP/declared"
sed -n 's/^    \(shmc_[a-z_]*\);$/\1/p' "$ROOT/src/libshmcached.map" | sort -u >"$TMP/mapped"
nm -D --defined-only "$LIB" | awk '$2 != "A" {sub(/@.*/, "", $3); print $3}' | sort -u >"$TMP/exported"
check "the header declares $(wc -l <"$TMP/declared") functions" test "$(wc -l <"$TMP/declared")" -ge 40
check "the version script lists exactly the header's functions:"$'\n'"$(diff "$TMP/declared" "$TMP/mapped")" \
    cmp -s "$TMP/declared" "$TMP/mapped"
check "libshmcached.so exports exactly the header's functions:"$'\n'"$(diff "$TMP/declared" "$TMP/exported")" \
    cmp -s "$TMP/declared" "$TMP/exported"
check "every export carries the version SHMCACHED_0" \
    bash -c '! nm -D --defined-only "$1" | grep " T " | grep -v "@@SHMCACHED_0$" | grep -q .' _ "$LIB"
check "the soname is libshmcached.so.0" bash -c 'objdump -p "$1" | grep -q "SONAME *libshmcached.so.0"' _ "$LIB"

# ---- building against it with pkg-config -------------------------------
cat >"$TMP/app.c" <<'EOF'
#include <stdio.h>
#include <shmcached.h>
int main(int argc, char **argv)
{
    shmc_cache *c;
    shmc_config cfg;
    shmc_config_init(&cfg);
    cfg.mem_bytes = 2u << 20;
    shmc_status st = shmc_create(argv[1], &cfg, &c);
    if (st != SHMC_OK) {
        fprintf(stderr, "create: %s\n", shmc_strerror(st));
        return 1;
    }
    char buf[16];
    size_t len = sizeof buf;
    st = shmc_set(c, "k", 1, "linked", 6, 0, 0);
    if (st == SHMC_OK)
        st = shmc_get(c, "k", 1, buf, &len, NULL, NULL);
    shmc_close(c);
    shmc_destroy(argv[1]);
    printf("%s %.*s\n", argc > 2 ? argv[2] : "", (int)len, st == SHMC_OK ? buf : "");
    return st != SHMC_OK;
}
EOF
if [ "$SANITIZED" = ON ]; then
    echo "note: a sanitizer build: the pkg-config links are checked in the plain build only"
else
    PC=(env PKG_CONFIG_PATH="$STAGE$LIBDIR/pkgconfig" pkg-config --define-variable=prefix="$P")
    SEG=/dev/shm/shmc-test-install.$$
    cc_ok() { # OUT PKG-CONFIG-ARGS... -- EXTRA-CC-ARGS...
        local out=$1; shift
        local pc=() extra=()
        while [ $# -gt 0 ] && [ "$1" != -- ]; do pc+=("$1"); shift; done
        shift
        extra=("$@")
        # shellcheck disable=SC2046
        cc -std=c11 -o "$out" "$TMP/app.c" $("${PC[@]}" "${pc[@]}") "${extra[@]}" 2>"$TMP/cc.err"
    }
    check "cc with pkg-config --cflags --libs shmcached:"$'\n'"$(cat "$TMP/cc.err" 2>/dev/null)" \
        cc_ok "$TMP/app-shared" --cflags --libs shmcached --
    check "the shared link needs libshmcached.so.0 (ldd)" \
        bash -c 'LD_LIBRARY_PATH=$2 ldd "$1" | grep -q "libshmcached.so.0 => $2/libshmcached.so.0"' _ \
        "$TMP/app-shared" "$STAGE$LIBDIR"
    check "the shared link runs" \
        bash -c '[ "$(LD_LIBRARY_PATH=$2 "$1" "$3" shared)" = "shared linked" ]' _ "$TMP/app-shared" "$STAGE$LIBDIR" "$SEG"
    check "cc with pkg-config --static --cflags --libs shmcached-static:"$'\n'"$(cat "$TMP/cc.err" 2>/dev/null)" \
        cc_ok "$TMP/app-static" --static --cflags --libs shmcached-static --
    check "the static link does not need libshmcached.so (ldd)" \
        bash -c '! ldd "$1" | grep -q libshmcached' _ "$TMP/app-static"
    check "the static link runs" bash -c '[ "$("$1" "$2" static)" = "static linked" ]' _ "$TMP/app-static" "$SEG"
    check "cc -static with pkg-config --static --libs shmcached-static:"$'\n'"$(cat "$TMP/cc.err" 2>/dev/null)" \
        cc_ok "$TMP/app-full" --static --cflags --libs shmcached-static -- -static
    check "the -static link is not dynamic (ldd)" \
        bash -c '! ldd "$1" >/dev/null 2>&1 || ldd "$1" 2>&1 | grep -q "not a dynamic executable"' _ "$TMP/app-full"
    check "the -static link runs" bash -c '[ "$("$1" "$2" full)" = "full linked" ]' _ "$TMP/app-full" "$SEG"
    rm -f "$SEG"
fi

# ---- the conf file is the administrator's; uninstall -----------------
CONF=$STAGE$SYSCONF/shmcached.conf
echo 'OPTIONS="-p 22122"' >"$CONF"
out=$(DESTDIR=$STAGE cmake --install "$BUILD" 2>&1)
check "a second install keeps a changed conf file" grep -qx 'OPTIONS="-p 22122"' "$CONF"
check "and puts the new default beside it" test -e "$CONF.dist"
out=$(DESTDIR=$STAGE bash "$ROOT/scripts/post-install.sh" uninstall "$STAGE" "$BUILD" 2>&1)
check "uninstall: exit 0"$'\n'"$out" test $? = 0
left=$(cd "$STAGE" && find . \( -type f -o -type l \) | sort)
check "uninstall leaves only the conf file, not: $left" test "$left" = ".$SYSCONF/shmcached.conf"
check "uninstall says it kept the conf file" grep -q "kept $CONF" <<<"$out"

# ---- PREFIX, as make install passes it: a scratch configure for /usr ---
if cmake -S "$ROOT" -B "$TMP/usr" -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_INSTALL_SYSCONFDIR=/etc \
    >"$TMP/configure.log" 2>&1; then
    pass
    check "PREFIX=/usr: shmcached.pc says prefix=/usr" grep -qx 'prefix=/usr' "$TMP/usr/shmcached.pc"
    check "PREFIX=/usr: the unit runs /usr/bin/shmcached" grep -q '^ExecStart=/usr/bin/shmcached ' "$TMP/usr/shmcached.service"
    check "PREFIX=/usr: the unit reads /etc/shmcached.conf" grep -qx 'EnvironmentFile=-/etc/shmcached.conf' "$TMP/usr/shmcached.service"
    [ -z "$PYDIR" ] || check "PREFIX=/usr: the Python module goes to Debian's lib/python3/dist-packages" \
        grep -qx 'SHMC_PYTHON_DIR:INTERNAL=lib/python3/dist-packages' "$TMP/usr/CMakeCache.txt"
else
    fail "cmake configure for /usr:"$'\n'"$(cat "$TMP/configure.log")"
fi
check "make passes PREFIX, DESTDIR and SYSCONFDIR" \
    bash -c 'make -n -C "$1" install PREFIX=/opt/x DESTDIR=/tmp/d SYSCONFDIR=/opt/etc BUILD=/nonexistent 2>/dev/null |
             grep -q "CMAKE_INSTALL_PREFIX=/opt/x -DCMAKE_INSTALL_SYSCONFDIR=/opt/etc"' _ "$ROOT"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
