#!/usr/bin/env bash
# post-install.sh - what `make install` does after `cmake --install`, and
# what `make uninstall` does, the way a Debian package's maintainer scripts
# would (docs/install.md):
#
#   scripts/post-install.sh install   DESTDIR BUILD
#   scripts/post-install.sh uninstall DESTDIR BUILD
#
# install, on the live system (DESTDIR empty) and as root: creates the
# system user and group shmcached from the installed sysusers.d entry
# (systemd-sysusers, else useradd), reloads systemd's units if systemd runs,
# checks that the loader finds libshmcached.so.0 (CMake's install step ran
# ldconfig) and says what to do next.  Under a DESTDIR it touches nothing
# outside it: the staged tree is for a package, whose scripts do that.
#
# uninstall removes every file `cmake --install BUILD` installs, as listed
# by a fresh staging install (so it works without an install manifest),
# under DESTDIR + the prefix BUILD was configured for; the configuration
# file is kept, as apt's remove keeps conffiles; so are the user and group.
# Directories that only its files may have made (the unit's, sysusers.d,
# pkgconfig) are removed when empty.
# On the live system it first stops and disables shmcached.service if
# systemd runs it, and runs ldconfig afterwards.
set -euo pipefail
mode=${1:?usage: post-install.sh install|uninstall DESTDIR BUILD}
destdir=${2-}
build=${3:?usage: post-install.sh install|uninstall DESTDIR BUILD}

cache_var() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt"; }
prefix=$(cache_var CMAKE_INSTALL_PREFIX)
sysconfdir=$(cache_var CMAKE_INSTALL_SYSCONFDIR)
case $sysconfdir in /*) ;; *) sysconfdir=$prefix/$sysconfdir ;; esac
conf=$sysconfdir/shmcached.conf
live=0
[ -z "$destdir" ] && live=1
root=0
[ "$(id -u)" = 0 ] && root=1
systemd_runs() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null; }

create_user() {
    getent passwd shmcached >/dev/null && return 0
    local entry=$prefix/lib/sysusers.d/shmcached.conf
    if command -v systemd-sysusers >/dev/null && systemd-sysusers "$entry" 2>/dev/null; then
        :
    elif command -v useradd >/dev/null; then
        useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin --comment "shmcached daemon" shmcached
    fi
    getent passwd shmcached >/dev/null && echo "==> created the system user and group shmcached"
}

after_install() {
    if [ "$live" = 0 ]; then
        echo "==> staged under $destdir: no ldconfig, no user, no systemctl (a package's scripts do those)"
        return 0
    fi
    if [ "$root" = 1 ]; then
        create_user || echo "note: could not create the user shmcached (the unit runs as it)" >&2
        systemd_runs && systemctl daemon-reload || true
    fi
    local lib
    lib=$(find "$prefix" -maxdepth 3 -name libshmcached.so.0 2>/dev/null | head -1)
    if [ -n "$lib" ] && ! ldconfig -p 2>/dev/null | grep -qF "$lib"; then
        echo "note: the loader does not find $lib: add $(dirname "$lib") to" \
             "/etc/ld.so.conf.d/shmcached.conf and run ldconfig (as root), or set LD_LIBRARY_PATH" >&2
    fi
    cat <<EOF
==> installed under $prefix; next:
    man shmcached; man libshmcached     the server and the C API
    systemctl enable --now shmcached    run the service (options: $conf)
    adduser USER shmcached              let USER's processes attach /dev/shm/shmcached
EOF
}

uninstall() {
    if [ "$live" = 1 ] && [ "$root" = 1 ] && systemd_runs &&
        systemctl is-enabled --quiet shmcached 2>/dev/null; then
        systemctl disable --now shmcached || true
    fi
    local stage f n=0
    stage=$(mktemp -d)
    trap 'rm -rf "$stage"' RETURN
    DESTDIR=$stage cmake --install "$build" >/dev/null
    while IFS= read -r -d '' f; do
        f=${f#"$stage"}
        [ "$f" = "$conf" ] && continue
        if [ -e "$destdir$f" ] || [ -L "$destdir$f" ]; then
            rm -f "$destdir$f"
            n=$((n + 1))
        fi
    done < <(find "$stage" \( -type f -o -type l \) -print0)
    rm -f "$destdir$conf.dist"
    # the Python package's directory, with the bytecode python3 wrote there
    local py
    py=$(cache_var SHMC_PYTHON_DIR)
    if [ -n "$py" ] && [ -d "$destdir$prefix/$py/shmcached" ]; then
        rm -rf "$destdir$prefix/$py/shmcached/__pycache__"
        rmdir --ignore-fail-on-non-empty "$destdir$prefix/$py/shmcached"
    fi
    # directories only shmcached's files may have made, if nothing else is in them
    local d
    for d in lib/systemd/system lib/systemd lib/sysusers.d "$(cache_var CMAKE_INSTALL_LIBDIR)/pkgconfig"; do
        [ -d "$destdir$prefix/$d" ] && rmdir --ignore-fail-on-non-empty "$destdir$prefix/$d"
    done
    echo "==> removed $n files from $destdir$prefix"
    [ -e "$destdir$conf" ] && echo "    kept $destdir$conf (yours now: remove it by hand)"
    if [ "$live" = 1 ] && [ "$root" = 1 ]; then
        ldconfig
        getent passwd shmcached >/dev/null && echo "    kept the user and group shmcached (userdel shmcached)"
        systemd_runs && systemctl daemon-reload || true
    fi
    return 0
}

case $mode in
install) after_install ;;
uninstall) uninstall ;;
*) echo "post-install.sh: unknown mode '$mode' (install or uninstall)" >&2; exit 2 ;;
esac
