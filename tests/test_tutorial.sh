#!/usr/bin/env bash
# test_tutorial.sh - runs docs/tutorial.md's commands as written, in order,
# in one shell (so its variables and functions carry from step to step), in
# a scratch directory where build/ and include/ are this tree's, and checks
# each output the tutorial shows.  The tutorial marks its blocks with HTML
# comments, invisible on the page:
#   <!-- test:file NAME -->   the next fenced block is written to NAME
#   <!-- test:run -->         the next fenced block is run
#   <!-- test:output -->      the next fenced block is the output of the
#                             last block run; "..." in a line stands for any
#                             text
#   <!-- test:wait-for FILE TEXT -->  wait (10 s at most) until FILE has TEXT
#
#   bash tests/test_tutorial.sh BUILD_DIR
#
# In a sanitizer build it says so and checks nothing (the tutorial links
# build/libshmcached.a with a plain cc line; the plain build runs it).
# Last line "N passed, M failed"; exit 0 only if none failed.
set -uo pipefail
BUILD=$(cd "${1:?usage: test_tutorial.sh BUILD_DIR}" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DOC=$ROOT/docs/tutorial.md
SEGMENT=/dev/shm/tutorial
PORT=8631

if grep -q '^SHMC_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt"; then
    echo "skip: a sanitizer build; the plain build runs the tutorial"
    echo "0 passed, 0 failed"
    exit 0
fi
WORK=$(mktemp -d)
STATE=$WORK/.state
mkdir -p "$STATE"
cleanup() {
    local pid
    pid=$(cat "$STATE/app.pid" 2>/dev/null) && kill "$pid" 2>/dev/null
    sleep 0.2
    [ -e "$SEGMENT" ] && "$BUILD/shmcachectl" -S "$SEGMENT" destroy --force >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT
ln -s "$BUILD" "$WORK/build"
ln -s "$ROOT/include" "$WORK/include"

# what an earlier run may have left; a port someone else has
if [ -e "$SEGMENT" ]; then
    "$BUILD/shmcachectl" -S "$SEGMENT" destroy --force >/dev/null ||
        { echo "FAIL: $SEGMENT exists and is not a segment this test may remove"; echo "0 passed, 1 failed"; exit 1; }
fi
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    echo "FAIL: port $PORT, which the tutorial uses, is taken"; echo "0 passed, 1 failed"; exit 1
fi

# The tutorial, as a script and a list of expected outputs.
python3 - "$DOC" "$WORK" "$STATE" <<'PYEOF'
import re, sys
doc, work, state = sys.argv[1:4]
lines = open(doc).read().split("\n")
script = ["cd %s" % work,
          "wait_for() { for _ in $(seq 200); do grep -qF -- \"$2\" \"$1\" 2>/dev/null && return 0; sleep 0.05; done; return 1; }"]
expects = []      # (block number, expected lines)
nrun = 0
i = 0
def fenced(i):
    """The fenced block at or after line i: (its lines, the line after it)."""
    while not lines[i].startswith("```"):
        i += 1
    j = i + 1
    while not lines[j].startswith("```"):
        j += 1
    return lines[i + 1:j], j + 1
while i < len(lines):
    m = re.match(r"<!-- test:([\w-]+) ?(.*?) -->", lines[i])
    i += 1
    if not m:
        continue
    kind, arg = m.group(1), m.group(2)
    if kind == "file":
        body, i = fenced(i)
        script.append("cat > %s <<'TUTORIAL_EOF'\n%s\nTUTORIAL_EOF" % (arg, "\n".join(body)))
    elif kind == "run":
        body, i = fenced(i)
        nrun += 1
        script.append("echo %d > %s/last" % (nrun, state))
        script.append("{\n%s\n} > %s/out.%d 2>&1; rc=$?" % ("\n".join(body), state, nrun))
        script.append('[ -n "${APP:-}" ] && echo "$APP" > %s/app.pid' % state)
        script.append("[ $rc = 0 ] || { echo \"step %d exited $rc\"; exit 1; }" % nrun)
    elif kind == "output":
        body, i = fenced(i)
        expects.append((nrun, body))
    elif kind == "wait-for":
        name, text = arg.split(" ", 1)
        script.append("wait_for %s '%s' || { echo '%s never said: %s'; exit 1; }" % (name, text, name, text))
open("%s/tutorial.sh" % state, "w").write("\n".join(script) + "\n")
with open("%s/expects" % state, "w") as f:
    for n, body in expects:
        f.write("%d\t%s\n" % (n, "\x1f".join(body)))
print("tutorial: %d blocks run, %d outputs checked" % (nrun, len(expects)))
PYEOF

PASS=0
FAIL=0
if bash "$STATE/tutorial.sh" >"$STATE/script.log" 2>&1; then
    PASS=$((PASS + 1)); echo "ok: every step of the tutorial ran"
else
    FAIL=$((FAIL + 1))
    n=$(cat "$STATE/last" 2>/dev/null)
    echo "FAIL: $(cat "$STATE/script.log"); its output:"
    cat "$STATE/out.$n" 2>/dev/null
fi
# each output shown in the tutorial against what its step printed
while IFS=$'\t' read -r n want; do
    [ -e "$STATE/out.$n" ] || { FAIL=$((FAIL + 1)); echo "FAIL: step $n did not run"; continue; }
    if python3 - "$STATE/out.$n" "$want" <<'PYEOF'; then
import re, sys
got = open(sys.argv[1]).read().rstrip("\n").split("\n")
want = sys.argv[2].split("\x1f")
ok = len(got) == len(want) and all(
    re.fullmatch(".*".join(re.escape(p) for p in w.split("...")), g) for w, g in zip(want, got))
if not ok:
    print("want:\n  " + "\n  ".join(want) + "\ngot:\n  " + "\n  ".join(got))
sys.exit(0 if ok else 1)
PYEOF
        PASS=$((PASS + 1)); echo "ok: step $n printed what the tutorial shows"
    else
        FAIL=$((FAIL + 1)); echo "FAIL: step $n's output"
    fi
done <"$STATE/expects"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
