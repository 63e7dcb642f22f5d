#!/usr/bin/env bash
# test_tls.sh - build/shmcached's TLS (-Z, -o ssl_*, refresh_certs), driven
# with Python's ssl module; the CA, certificates and keys are made here with
# the openssl command, in a temporary directory (none is committed):
#   1. set/get over TLS, a 3 MB value both ways, pipelined requests, the
#      binary protocol; stats and stats settings;
#   2. plaintext and garbage on the TLS port: closed and counted in
#      ssl_handshake_errors, the server serves on; -l notls:, -s stay plain;
#   3. refresh_certs: new connections get the new certificate, open ones
#      go on; a broken file is reported and the running certificate kept;
#   4. ssl_verify_mode 0..3 with ssl_ca_cert: client certificates
#      required, refused, requested;
#   5. ssl_min_version refuses an older protocol; ssl_ciphers;
#   6. start-up errors: missing or bad files and option values (memcached's
#      messages and exit statuses).
#
#   bash tests/test_tls.sh BUILD_DIR
#
# Runs as root (hence -u root).  Every check is counted; the last line is
# "N passed, M failed"; exit status 0 only if none failed.
set -uo pipefail

BUILD=${1:?usage: test_tls.sh BUILD_DIR}
BUILD=$(cd "$BUILD" && pwd)
SRV="$BUILD/shmcached"
source "$(dirname "$0")/checks.sh" shmcached-tls
has() { grep -qF -- "$2" <<<"$1"; } # has TEXT NEEDLE

if [[ ! -x $SRV ]]; then
    echo "FAIL: $SRV not built"; echo "0 passed, 1 failed"; exit 1
fi
command -v openssl >/dev/null || { echo "FAIL: no openssl command"; echo "0 passed, 1 failed"; exit 1; }

# ---------------------------------------------------------------- certificates
# A CA, the server's certificate (localhost, 127.0.0.1), a second one for
# refresh_certs (CN refreshed), a client certificate from the CA, and a
# client certificate from another CA.
cd "$TMP" || exit 1
gen() { openssl "$@" >/dev/null 2>&1 || { echo "FAIL: openssl $*"; exit 1; }; }
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > san.ext
gen req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=shmc-test-ca
gen req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.crt -days 2 -subj /CN=other-ca
signed() { # signed NAME CN CA: NAME.key, NAME.crt signed by CA
    gen req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$2"
    gen x509 -req -in "$1.csr" -CA "$3.crt" -CAkey "$3.key" -CAcreateserial -out "$1.crt" \
        -days 2 -extfile san.ext
}
signed server localhost ca
signed server2 refreshed ca
signed client client ca
signed stranger stranger other-ca
cat server.crt server.key > combined.pem # chain and key in one file
cp server.crt live.crt; cp server.key live.key

# A TLS client: tlsmc.py PORT DATA [options]; prints the reply (until the
# server closes, the reply's last line is a final one, END, OK, Error...,
# VERSION..., or 0.5 s of silence), or "TLSFAIL <reason>".  Options:
#   --ca FILE (verify the server against it; else no verification),
#   --cert NAME (NAME.crt/NAME.key), --max V / --min V (1.1, 1.2, 1.3),
#   --peer (print the server certificate's CN first), --wait S,
#   --drain 1 (read until silence: many replies, each ending in END).
cat > tlsmc.py <<'EOF'
import socket, ssl, sys
port, data = int(sys.argv[1]), sys.argv[2]
opts = dict(zip(sys.argv[3::2], sys.argv[4::2]))
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
if "--ca" in opts:
    ctx.load_verify_locations(opts["--ca"])
else:
    ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
if "--cert" in opts:
    ctx.load_cert_chain(opts["--cert"] + ".crt", opts["--cert"] + ".key")
V = {"1.1": ssl.TLSVersion.TLSv1_1, "1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}
if "--max" in opts: ctx.maximum_version = V[opts["--max"]]
if "--min" in opts: ctx.minimum_version = V[opts["--min"]]
wait = float(opts.get("--wait", "0.5"))
FINAL = (b"END", b"OK", b"Error", b"VERSION", b"ERROR", b"CLIENT_ERROR", b"SERVER_ERROR")
def complete(buf):
    if "--drain" in opts or not buf.endswith(b"\r\n"):
        return False
    return buf[:-2].rsplit(b"\r\n", 1)[-1].startswith(FINAL)
out = ""
try:
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    s = ctx.wrap_socket(raw, server_hostname="localhost")
    if "--peer" in opts:
        cert = s.getpeercert(binary_form=False) if "--ca" in opts else None
        if cert is None:
            import subprocess
            der = s.getpeercert(binary_form=True)
            pem = ssl.DER_cert_to_PEM_cert(der)
            cn = subprocess.run(["openssl", "x509", "-noout", "-subject"], input=pem,
                                capture_output=True, text=True).stdout.strip()
        else:
            cn = dict(x[0] for x in cert["subject"])["commonName"]
        out += "PEER %s\n" % cn.split("=")[-1].strip()
    out += "VERSION %s\n" % s.version()
    s.sendall(data.encode().decode("unicode_escape").encode("latin1"))
    s.settimeout(wait); buf = b""
    try:
        while True:
            d = s.recv(1 << 20)
            if not d: break
            buf += d
            if complete(buf): break
    except socket.timeout:
        pass
    out += buf.decode("latin1")
except (ssl.SSLError, OSError) as e:
    out += "TLSFAIL %s" % e
sys.stdout.write(out)
EOF
tlsmc() { python3 "$TMP/tlsmc.py" "$@"; }

# A plain client: raw.py PORT HEX|TEXT: sends, prints what came back and
# "CLOSED" if the server closed the connection within 2 s.
cat > raw.py <<'EOF'
import socket, sys
port, data = int(sys.argv[1]), sys.argv[2]
b = bytes.fromhex(data[4:]) if data.startswith("hex:") else data.encode().decode("unicode_escape").encode("latin1")
s = socket.create_connection(("127.0.0.1", port)); s.sendall(b); s.settimeout(2)
buf = b""
try:
    while True:
        d = s.recv(65536)
        if not d:
            buf += b"CLOSED"; break
        buf += d
except ConnectionResetError:
    buf += b"CLOSED"
except socket.timeout:
    pass
sys.stdout.write(buf.decode("latin1"))
EOF
raw() { python3 "$TMP/raw.py" "$@"; }

SRV_PID=""
# start_tls PORT LOG ARGS...: start with -Z on 127.0.0.1:PORT (or on $LISTEN),
# wait until a TLS "version" is answered (or the server exits).
start_tls() {
    local port=$1 log=$2; shift 2
    "$SRV" -u root -Z -l "${LISTEN:-127.0.0.1}" -p "$port" -U 0 -e "$BASE.$port" "$@" >"$log" 2>&1 &
    SRV_PID=$!
    SRV_LOG=$log
    PIDS+=("$SRV_PID")
    for _ in $(seq 100); do
        if tlsmc "$port" 'version\r\n' --cert client --wait 0.2 2>/dev/null | grep -q '^VERSION 1'; then
            return 0
        fi
        kill -0 "$SRV_PID" 2>/dev/null || { cat "$log"; return 1; }
        sleep 0.05
    done
    cat "$log"
    return 1
}
# stop_server NAME: SIGTERM; a check that it exits 0 (under ASan: no error,
# no leak), its log shown if not.
stop_server() {
    kill -TERM "$SRV_PID" 2>/dev/null
    wait "$SRV_PID" 2>/dev/null
    local rc=$?
    SRV_PID=""
    if [[ $rc == 0 ]]; then pass "$1: the server exits 0"; else
        fail "$1: the server exits $rc"; tail -20 "$SRV_LOG"; fi
}
stat_of() { # stat_of PORT NAME: the value of "STAT NAME" over TLS
    tlsmc "$1" 'stats\r\n' --cert client | tr -d '\r' | awk -v n="$2" '$1 == "STAT" && $2 == n { print $3 }'
}

# ---------------------------------------------------------------- 1. serving
PORT=$(free_port)
PLAIN=$(free_port)
LISTEN="127.0.0.1:$PORT,notls:127.0.0.1:$PLAIN" \
    check "start with -Z and a notls: listener" start_tls "$PORT" "$TMP/srv.log" -I 4m -o "ssl_chain_cert=$TMP/live.crt,ssl_key=$TMP/live.key"
OUT=$(tlsmc "$PORT" 'set k 5 0 5\r\nhello\r\nget k\r\n' --ca ca.crt)
check "set/get over TLS (server verified against the CA)" \
    test "$(tr -d '\r' <<<"$OUT")" == "$(printf 'VERSION TLSv1.3\nSTORED\nVALUE k 5 5\nhello\nEND')"
BIG=$(python3 - "$PORT" <<'EOF'
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))))
v = bytes(range(256)) * (3 * 4096)           # 3 MiB: many records, full socket buffers
s.sendall(b"set big 0 0 %d\r\n" % len(v) + v + b"\r\n")
reply = b""
while not reply.endswith(b"\r\n"): reply += s.recv(100)
assert reply == b"STORED\r\n", reply
s.sendall(b"get big\r\n" * 3)                # three copies back, read slowly
want = (b"VALUE big 0 %d\r\n" % len(v) + v + b"\r\nEND\r\n") * 3
got = bytearray()                            # (bytes += would copy 9 MB per recv)
while len(got) < len(want):
    d = s.recv(1000)
    if not d: break
    got += d
print("ok" if got == want else "bad %d of %d" % (len(got), len(want)))
EOF
)
check "a 3 MB value over TLS both ways, three replies read slowly" test "$BIG" == ok
OUT=$(tlsmc "$PORT" "$(python3 -c 'print("get k\\r\\n" * 2000, end="")')" --drain 1 | tr -d '\r' | grep -c '^hello$')
check "2000 pipelined gets in one TLS write: 2000 replies" test "$OUT" == 2000
OUT=$(python3 - "$PORT" <<'EOF'
import socket, ssl, struct, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))))
s.sendall(struct.pack(">BBHBBHIIQ", 0x80, 0x0b, 0, 0, 0, 0, 0, 0, 0))   # binary Version
h = s.recv(24)
print("magic=%#x status=%d" % (h[0], struct.unpack(">H", h[6:8])[0]))
EOF
)
check "the binary protocol over TLS" test "$OUT" == "magic=0x81 status=0"
SETS=$(tlsmc "$PORT" 'stats settings\r\n' | tr -d '\r')
check "stats settings: ssl_enabled yes" has "$SETS" "STAT ssl_enabled yes"
check "stats settings: ssl_chain_cert as given" has "$SETS" "STAT ssl_chain_cert $TMP/live.crt"
check "stats settings: memcached's defaults" has "$SETS" "$(printf 'STAT ssl_verify_mode 0\nSTAT ssl_keyformat 1\nSTAT ssl_ciphers NULL\nSTAT ssl_ca_cert NULL\nSTAT ssl_wbuf_size 16384\nSTAT ssl_session_cache no\nSTAT ssl_kernel_tls no\nSTAT ssl_min_version tlsv1.2')"
check "stats: time_since_server_cert_refresh" test -n "$(stat_of "$PORT" time_since_server_cert_refresh)"

# ---------------------------------------------------------------- 2. not TLS
E0=$(stat_of "$PORT" ssl_handshake_errors)
check "stats: ssl_handshake_errors starts at 0" test "$E0" == 0
OUT=$(raw "$PORT" 'version\r\n')
check "plaintext on the TLS port: closed, no reply" test "$OUT" == CLOSED
check "... counted in ssl_handshake_errors" test "$(stat_of "$PORT" ssl_handshake_errors)" == 1
OUT=$(raw "$PORT" "hex:$(head -c 4096 /dev/urandom | od -An -tx1 | tr -d ' \n' | sed 's/^../00/')")
check "random bytes on the TLS port: closed" test "${OUT: -6}" == CLOSED
check "... counted" test "$(stat_of "$PORT" ssl_handshake_errors)" == 2
# a ClientHello cut short, then the client leaves: nothing to count, nothing breaks
python3 -c "
import socket; s = socket.create_connection(('127.0.0.1', $PORT))
s.sendall(bytes.fromhex('16030100c8010000c40303')); s.close()"
# 300 ClientHellos mutated at random (bytes flipped, cut short, repeated),
# each sent and the connection closed: nothing may crash or leak (ASan).
E1=$(stat_of "$PORT" ssl_handshake_errors)
python3 - "$PORT" <<'EOF'
import random, socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
try:
    obj.do_handshake()
except ssl.SSLWantReadError:
    pass
hello = out.read()
rnd = random.Random(21)
for i in range(300):
    b = bytearray(hello)
    kind = i % 3
    if kind == 0:
        for _ in range(rnd.randint(1, 8)):
            b[rnd.randrange(len(b))] = rnd.randrange(256)
    elif kind == 1:
        b = b[:rnd.randrange(1, len(b))]
    else:
        b = b * rnd.randint(2, 4)
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    try:
        s.sendall(bytes(b))
    except OSError:
        pass
    s.close()
EOF
E2=$(stat_of "$PORT" ssl_handshake_errors)
check "300 mutated ClientHellos: handshake errors counted ($E1 -> $E2)" \
    test "$E2" -gt "$E1" -a "$E2" -le $((E1 + 300))
check "the server serves on over TLS after all of that" has "$(tlsmc "$PORT" 'get k\r\n')" hello
check "-l notls: serves plaintext beside the TLS listener" has "$(raw "$PLAIN" 'get k\r\n')" hello
OUT=$(tlsmc "$PLAIN" 'version\r\n')
check "... and no TLS there" has "$OUT" TLSFAIL

# ---------------------------------------------------------------- 3. refresh_certs
# a connection opened before the refresh, used again after it
python3 - "$PORT" >"$TMP/old.out" 2>&1 <<'EOF' &
import socket, ssl, sys, time
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))))
s.sendall(b"version\r\n"); s.recv(100)
time.sleep(1.5)                      # refresh_certs happens meanwhile
s.sendall(b"get k\r\n"); print(s.recv(100).decode().split("\r\n")[1])
EOF
OLD_PID=$!
check "before refresh_certs: the first certificate" has "$(tlsmc "$PORT" 'version\r\n' --peer 1)" "PEER localhost"
sleep 2 # so that time_since_server_cert_refresh differs from the uptime below
cp server2.crt live.crt; cp server2.key live.key
REFRESHED_AT=$SECONDS
check "refresh_certs: OK" test "$(tlsmc "$PORT" 'refresh_certs\r\n' | tr -d '\r' | tail -1)" == OK
check "after refresh_certs: new connections get the new certificate" \
    has "$(tlsmc "$PORT" 'version\r\n' --peer 1)" "PEER refreshed"
wait "$OLD_PID"
check "a connection opened before refresh_certs goes on after it" test "$(cat "$TMP/old.out")" == hello
echo "not a certificate" > live.crt
OUT=$(tlsmc "$PORT" 'refresh_certs\r\n' | tr -d '\r' | tail -1)
check "refresh_certs with a broken chain file: memcached's error" \
    has "$OUT" "Error loading the certificate chain: $TMP/live.crt : error:"
check "... and the running certificate stays" has "$(tlsmc "$PORT" 'version\r\n' --peer 1)" "PEER refreshed"
cp server.crt live.crt # a key that does not match
OUT=$(tlsmc "$PORT" 'refresh_certs\r\n' | tr -d '\r' | tail -1)
check "refresh_certs with a key that does not match: the key's error" \
    has "$OUT" "Error loading the key: $TMP/live.key : error:"
SINCE=$(stat_of "$PORT" time_since_server_cert_refresh)
UP=$(stat_of "$PORT" uptime)
check "stats: time_since_server_cert_refresh counts from the last good load ($SINCE s of $UP)" \
    test "${SINCE:-99}" -le $((SECONDS - REFRESHED_AT + 1)) -a "${SINCE:-99}" -lt "${UP:-0}"
stop_server "TLS with notls:"
PORT2=$(free_port)
"$SRV" -u root -l 127.0.0.1 -p "$PORT2" -U 0 -e "$BASE.plain" >"$TMP/plain.log" 2>&1 &
SRV_PID=$!; SRV_LOG=$TMP/plain.log; PIDS+=("$SRV_PID")
for _ in $(seq 100); do raw "$PORT2" 'version\r\n' 2>/dev/null | grep -q VERSION && break; sleep 0.05; done
check "refresh_certs without -Z: Error TLS not enabled" \
    test "$(raw "$PORT2" 'refresh_certs\r\n' | tr -d '\r' | head -1)" == "Error TLS not enabled"
SETS=$(raw "$PORT2" 'stats settings\r\n' | tr -d '\r')
check "stats settings without -Z: ssl_enabled no, (null) files" \
    has "$SETS" "$(printf 'STAT ssl_enabled no\nSTAT ssl_chain_cert (null)\nSTAT ssl_key (null)')"
check "stats without -Z: no ssl counters" bash -c "! grep -q ssl_handshake <<<\"\$1\"" _ "$(raw "$PORT2" 'stats\r\n')"
stop_server "no -Z"

# ---------------------------------------------------------------- 4. verify modes
verify_case() { # verify_case MODE CLIENT EXPECT(ok|refused) NAME
    local out
    if [[ $2 == none ]]; then
        out=$(tlsmc "$PORT" 'set v 0 0 1\r\nx\r\nget v\r\n')
    else
        out=$(tlsmc "$PORT" 'set v 0 0 1\r\nx\r\nget v\r\n' --cert "$2")
    fi
    if [[ $3 == ok ]]; then
        check "ssl_verify_mode=$1: $4" has "$out" "VALUE v 0 1"
    else
        check "ssl_verify_mode=$1: $4" bash -c "! grep -q STORED <<<\"\$1\"" _ "$out"
    fi
}
for mode in 0 1 2 3; do
    PORT=$(free_port)
    if ! start_tls "$PORT" "$TMP/v$mode.log" \
            -o "ssl_chain_cert=$TMP/server.crt,ssl_key=$TMP/server.key,ssl_ca_cert=$TMP/ca.crt,ssl_verify_mode=$mode"; then
        fail "start with ssl_verify_mode=$mode"; continue
    fi
    verify_case "$mode" client ok "a client certificate from ssl_ca_cert is taken"
    case $mode in
    0) verify_case 0 none ok "no client certificate: served"
       verify_case 0 stranger ok "a stranger's certificate is not even checked" ;;
    1) verify_case 1 none ok "no client certificate: served (requested only)"
       verify_case 1 stranger refused "a certificate from another CA is refused" ;;
    *) verify_case "$mode" none refused "no client certificate: refused"
       verify_case "$mode" stranger refused "a certificate from another CA is refused" ;;
    esac
    N=$(stat_of "$PORT" ssl_handshake_errors)
    if [[ $mode == 0 ]]; then
        check "ssl_verify_mode=0: no handshake errors" test "$N" == 0
    elif [[ $mode == 1 ]]; then
        check "ssl_verify_mode=1: the refusal counted" test "$N" == 1
    else
        check "ssl_verify_mode=$mode: both refusals counted ($N)" test "$N" == 2
    fi
    check "stats settings: ssl_verify_mode $mode" has "$(tlsmc "$PORT" 'stats settings\r\n' --cert client)" \
        "STAT ssl_verify_mode $mode"
    stop_server "ssl_verify_mode=$mode"
done

# ---------------------------------------------------------------- 5. versions, ciphers
for v in tlsv1.3 3; do
    PORT=$(free_port)
    check "start with ssl_min_version=$v" start_tls "$PORT" "$TMP/min.log" \
        -o "ssl_chain_cert=$TMP/combined.pem,ssl_min_version=$v"
    check "ssl_min_version=$v: a TLSv1.2 client is refused" \
        has "$(tlsmc "$PORT" 'version\r\n' --max 1.2)" TLSFAIL
    check "ssl_min_version=$v: a TLSv1.3 client is served" \
        has "$(tlsmc "$PORT" 'version\r\n' --min 1.3)" "VERSION 1.6.18"
    check "ssl_min_version=$v: stats settings say tlsv1.3" \
        has "$(tlsmc "$PORT" 'stats settings\r\n')" "STAT ssl_min_version tlsv1.3"
    stop_server "ssl_min_version=$v"
done
PORT=$(free_port)
check "start with the default ssl_min_version (the key in the chain's file)" \
    start_tls "$PORT" "$TMP/def.log" -o "ssl_chain_cert=$TMP/combined.pem,ssl_ciphers=ECDHE-RSA-AES128-GCM-SHA256"
OUT=$(tlsmc "$PORT" 'version\r\n' --max 1.2)
check "default ssl_min_version: a TLSv1.2 client is served" has "$OUT" "VERSION TLSv1.2"
check "ssl_ciphers: TLSv1.2 uses the one cipher given" bash -c "python3 - $PORT <<'EOF'
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
s = ctx.wrap_socket(socket.create_connection(('127.0.0.1', int(sys.argv[1]))))
sys.exit(0 if s.cipher()[0] == 'ECDHE-RSA-AES128-GCM-SHA256' else 1)
EOF"
stop_server "ssl_ciphers"

# ---------------------------------------------------------------- UNIX socket
SOCK="$TMP/tls.sock"
"$SRV" -u root -Z -s "$SOCK" -e "$BASE.sock" -o "ssl_chain_cert=$TMP/combined.pem" >"$TMP/sock.log" 2>&1 &
SRV_PID=$!; SRV_LOG=$TMP/sock.log; PIDS+=("$SRV_PID")
OUT=""
for _ in $(seq 100); do
    OUT=$(python3 -c "
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect('$SOCK'); s.sendall(b'version\r\n'); s.settimeout(1)
print(s.recv(100).decode().strip())" 2>/dev/null) && break
    sleep 0.05
done
check "-Z -s: the UNIX socket stays plaintext (as memcached)" has "$OUT" "VERSION 1.6.18"
stop_server "-Z -s"

# ---------------------------------------------------------------- 6. start-up errors
# refused EXIT NAME MESSAGE ARGS...: the server exits EXIT, printing MESSAGE
refused() {
    local want=$1 name=$2 msg=$3 out rc
    shift 3
    out=$(timeout 5 "$SRV" -u root -l 127.0.0.1 -p "$(free_port)" -U 0 -e "$BASE.bad" "$@" 2>&1)
    rc=$?
    if [[ $rc == "$want" ]] && has "$out" "$msg"; then pass "$name"; else
        fail "$name (exit $rc: $out)"; fi
}
refused 64 "-Z without ssl_chain_cert: exit 64" \
    "Error loading the certificate chain: (null) : -Z needs -o ssl_chain_cert=FILE" -Z
refused 64 "-Z with a missing chain file: exit 64" \
    "Error loading the certificate chain: $TMP/nonexistent.crt : error:" \
    -Z -o "ssl_chain_cert=$TMP/nonexistent.crt,ssl_key=$TMP/server.key"
refused 64 "-Z with a relative missing chain file: shown absolute" \
    "Error loading the certificate chain: $TMP/nonexistent.crt : error:" \
    -Z -o "ssl_chain_cert=nonexistent.crt,ssl_key=server.key"
refused 64 "-Z with a missing key file: exit 64" \
    "Error loading the key: $TMP/nonexistent.key : error:" \
    -Z -o "ssl_chain_cert=$TMP/server.crt,ssl_key=$TMP/nonexistent.key"
refused 64 "-Z with a key of another certificate: exit 64" "Error loading the key: $TMP/client.key" \
    -Z -o "ssl_chain_cert=$TMP/server.crt,ssl_key=$TMP/client.key"
refused 64 "-Z with only a certificate (no key in it): exit 64" "Error loading the key: $TMP/server.crt" \
    -Z -o "ssl_chain_cert=$TMP/server.crt"
refused 64 "-Z with a missing CA file: exit 64" \
    "Error loading the CA certificate: $TMP/nonexistent-ca.crt : error:" \
    -Z -o "ssl_chain_cert=$TMP/combined.pem,ssl_ca_cert=$TMP/nonexistent-ca.crt"
refused 64 "-Z with unknown ciphers: exit 64" "Error setting the provided cipher(s): BOGUS" \
    -Z -o "ssl_chain_cert=$TMP/combined.pem,ssl_ciphers=BOGUS"
refused 64 "-Z with ssl_keyformat=7: exit 64" "Error loading the key: $TMP/combined.pem" \
    -Z -o "ssl_chain_cert=$TMP/combined.pem,ssl_keyformat=7"
refused 1 "ssl_verify_mode=4: memcached's message, exit 1" \
    "Invalid ssl_verify_mode. Use help to see valid options." -o ssl_verify_mode=4
refused 1 "ssl_verify_mode=x: exit 1" "could not parse argument to ssl_verify_mode" -o ssl_verify_mode=x
refused 1 "ssl_min_version=tlsv1.9: exit 1" "Invalid ssl_min_version." -o ssl_min_version=tlsv1.9
refused 1 "ssl_min_version=4: exit 1" "Invalid ssl_min_version." -o ssl_min_version=4
refused 1 "ssl_keyformat=PEM (memcached takes a number): exit 1" \
    "could not parse argument to ssl_keyformat" -o ssl_keyformat=PEM
refused 1 "ssl_wbuf_size=x: exit 1" "could not parse argument to ssl_wbuf_size" -o ssl_wbuf_size=x
refused 1 "ssl_chain_cert without a value: exit 1" "Missing ssl_chain_cert argument" -o ssl_chain_cert
refused 1 "an unknown ssl_ option: exit 1" 'Illegal suboption "ssl_bogus"' -o ssl_bogus=1

checks_done
