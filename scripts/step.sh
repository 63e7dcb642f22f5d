#!/usr/bin/env bash
# step.sh - runs one step of a make target quietly: one line saying what
# it does and how it ended, and the step's whole output only if it failed.
#
#   scripts/step.sh "WHAT" COMMAND [ARGS...]
#
# Prints "==> WHAT" then " ok (Ns)" on the same line; on failure, the
# command's output in full, then "==> WHAT: FAILED (exit N)", and exits
# with the command's status.  V=1 in the environment runs the command with
# its output shown as it comes (for debugging the build itself).
set -uo pipefail
what=${1:?usage: step.sh WHAT COMMAND [ARGS...]}
shift
if [ "${V:-0}" != 0 ]; then
    echo "==> $what: $*"
    exec "$@"
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$SECONDS
printf '==> %s ...' "$what"
"$@" >"$log" 2>&1
rc=$?
if [ "$rc" = 0 ]; then
    echo " ok ($((SECONDS - start))s)"
    exit 0
fi
echo
cat "$log"
echo "==> $what: FAILED (exit $rc)" >&2
exit "$rc"
