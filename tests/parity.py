#!/usr/bin/env python3
"""parity.py - byte-for-byte reply parity of build/shmcached with memcached.

    python3 tests/parity.py SHMCACHED [MEMCACHED] [-k SUBSTRING] [-v] [-x]

-k runs the cases whose name contains SUBSTRING, -v prints every reply and
time, -x also runs the EXCLUDED cases (to see how they differ).

Starts the real memcached and shmcached with the same settings (TCP on
loopback, free ports; pairs with -C, a small -I and a small -c), sends every
case's scripted byte sequences to both on fresh connections and compares
the replies after normalising only what must differ: CAS unique values
(mapped to c#1, c#2... by order of appearance within a case), version
strings, stats values.  A case is a list of steps; each step's bytes go out
followed by a sentinel request (text: "mn\\r\\n", binary: a Noop with opaque
0x5e71e1) and its reply is read until the sentinel's answer, the server
closing, or a short idle timeout (cases that swallow the sentinel say so).
A step may be a function of the replies so far (for CAS round trips).

Start-up refusals (REFUSALS in parity_cases.py: flag sets both servers
must refuse, such as -S -B ascii) are compared by exit status and stderr.

Cases memcached and shmcached cannot answer alike are listed in EXCLUDED
with the reason (docs/server.md, "Known departures"); they are not run.

Every case prints "ok: NAME" or "FAIL: NAME" with both replies (repr); the
last line is "N passed, M failed, K excluded"; exit status 1 on a failure.
"""
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

# ------------------------------------------------------------ servers

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    """One daemon on 127.0.0.1:port; start() waits until it answers."""

    def __init__(self, argv, seg=None, env=None):
        self.port = free_port()
        self.argv = argv + ["-u", "root", "-l", "127.0.0.1",
                            "-p", str(self.port), "-U", "0"]
        self.seg = seg
        if seg:
            self.argv += ["-e", seg]
        self.env = env
        # -S without -Y: the binary protocol only (text closes unanswered)
        self.binary_only = "-S" in argv and "-Y" not in argv
        self.proc = None
        self.log = tempfile.TemporaryFile()

    def start(self):
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL,
                                     stderr=self.log, env=self.env)
        probe = bin_req(0x0B) if self.binary_only else b"version\r\n"
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited: %s" % (self.argv, self.errors()))
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.5) as s:
                    s.sendall(probe)
                    if s.recv(100):  # VERSION, or (-Y) unauthenticated
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("%s did not start" % self.argv)

    def errors(self):
        """What the server wrote on stderr."""
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def sanitizer_report(self):
        """The ASan/UBSan/LSan report in its stderr, or ''."""
        err = self.errors()
        marks = ("AddressSanitizer", "LeakSanitizer", "runtime error:")
        return err if any(m in err for m in marks) else ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.seg:  # the segment, and the restart file a clean stop writes
            for p in (self.seg, self.seg + ".meta"):
                if os.path.exists(p):
                    os.unlink(p)

# ------------------------------------------------------------ exchange

TEXT_SENTINEL = b"mn\r\n"
TEXT_SENTINEL_REPLY = b"MN\r\n"
BIN_SENTINEL_OPAQUE = 0x5E71E1
CLOSED = b"<closed>"


def bin_req(opcode, key=b"", value=b"", extras=b"", opaque=0, cas=0,
            magic=0x80, vbucket=0, keylen=None, extlen=None, bodylen=None,
            datatype=0):
    """A binary request; keylen/extlen/bodylen override the true lengths."""
    kl = len(key) if keylen is None else keylen
    el = len(extras) if extlen is None else extlen
    bl = len(extras) + len(key) + len(value) if bodylen is None else bodylen
    return struct.pack(">BBHBBHIIQ", magic, opcode, kl, el, datatype, vbucket,
                       bl, opaque, cas) + extras + key + value


BIN_SENTINEL = bin_req(0x0A, opaque=BIN_SENTINEL_OPAQUE)


def bin_packets(data):
    """Split binary replies into (header fields, extras, key, value) tuples;
    a trailing partial packet is kept as raw bytes."""
    out = []
    while len(data) >= 24 and data[0] == 0x81:
        magic, op, kl, el, dt, st, bl, opq, cas = struct.unpack(
            ">BBHBBHIIQ", data[:24])
        if len(data) < 24 + bl:
            break
        body = data[24:24 + bl]
        out.append({"op": op, "status": st, "opaque": opq, "cas": cas,
                    "datatype": dt, "extras": body[:el],
                    "key": body[el:el + kl], "value": body[el + kl:]})
        data = data[24 + bl:]
    if data:
        out.append({"raw": data})
    return out


def bin_done(buf):
    pk = bin_packets(buf)
    return bool(pk) and pk[-1].get("op") == 0x0A and \
        pk[-1].get("opaque") == BIN_SENTINEL_OPAQUE


def read_reply(sock, done, idle):
    """Read until done(buf), the peer closes, or idle seconds of silence."""
    buf = b""
    sock.settimeout(idle)
    while True:
        try:
            d = sock.recv(1 << 20)
        except socket.timeout:
            return buf
        except ConnectionResetError:
            return buf + CLOSED
        if not d:
            return buf + CLOSED
        buf += d
        if done and done(buf):
            return buf


class Raw(bytes):
    """A step sent without the sentinel (a request left incomplete on
    purpose); its reply is whatever arrives before a short silence."""


RAW_IDLE = 0.3


def run_steps(port, case, sock=None):
    s = sock or socket.create_connection(("127.0.0.1", port), 5)
    replies = []
    try:
        for step in case.steps:
            data = step(replies) if callable(step) else step
            if isinstance(step, Raw):
                done, idle = None, RAW_IDLE
            elif case.sentinel:
                data += BIN_SENTINEL if case.binary else TEXT_SENTINEL
                # one MN per "mn" the step itself sends, plus the sentinel's
                n_mn = len(re.findall(rb"(?:^|\n)mn[ \r]", data))
                done = bin_done if case.binary else \
                    (lambda b, n=n_mn: b.endswith(TEXT_SENTINEL_REPLY) and
                     b.count(TEXT_SENTINEL_REPLY) >= n)
                idle = case.idle if case.idle is not None else 3.0
            else:
                done, idle = case.until, case.idle or 0.3
            try:
                s.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                replies.append(CLOSED)
                break
            r = read_reply(s, done, idle)
            replies.append(r)
            if r.endswith(CLOSED):
                break
    finally:
        if sock is None:
            s.close()
    return replies

# ------------------------------------------------------------ normalising

CAS_TEXT = [
    re.compile(rb"^(VALUE \S+ \d+ \d+ )(\d+)(\r)$", re.M),
]
META_LINE = re.compile(rb"^(VA \d+|HD|EX|NF|NS|EN|ME \S+)((?: [^\r\n]*)?)\r$",
                       re.M)


class CasMap:
    def __init__(self):
        self.m = {}

    def tok(self, v):
        if isinstance(v, bytes):
            v = int(v)
        if v == 0:
            return b"0"
        if v not in self.m:
            self.m[v] = len(self.m) + 1
        return b"c#%d" % self.m[v]


def ttl_tok(f):
    """A meta reply's remaining TTL (t<n>, n >= 5) to the nearest 5 s: set
    and read can fall on either side of a second, which memcached's clock
    (a timer's tick) and ours cross at different moments: t99 against t100
    under AddressSanitizer.  Other flags, and t-1 and t0..t4, as they are."""
    m = re.match(rb"^t(\d+)$", f)
    if not m or int(m.group(1)) < 5:
        return f
    return b"t~%d" % (5 * ((int(m.group(1)) + 2) // 5))


def norm_text(reply, cm):
    reply = CAS_TEXT[0].sub(lambda m: m.group(1) + cm.tok(m.group(2)) +
                            m.group(3), reply)

    def meta(m):
        flags = m.group(2).split(b" ")
        if m.group(1).startswith(b"ME "):
            flags = [re.sub(rb"^cas=(\d+)$",
                            lambda x: b"cas=" + cm.tok(x.group(1)), f)
                     for f in flags]
        else:
            flags = [b"c" + cm.tok(f[1:]) if re.match(rb"^c\d+$", f) else
                     ttl_tok(f) for f in flags]
        return m.group(1) + b" ".join(flags) + b"\r"
    reply = META_LINE.sub(meta, reply)
    reply = re.sub(rb"^VERSION [^\r\n]*\r$", b"VERSION <v>\r", reply,
                   flags=re.M)
    return reply


def norm_stats_names(reply, cm):
    """STAT lines keep their names only."""
    return re.sub(rb"^STAT (\S+) [^\r\n]*\r$", rb"STAT \1\r", reply,
                  flags=re.M)


def norm_stats_first(reply, cm):
    """Only the shape: STAT lines collapse to one marker, END kept."""
    reply = re.sub(rb"(STAT [^\r\n]*\r\n)+", b"STAT...\r\n", reply)
    return reply


def norm_bin(reply, cm):
    out = []
    for p in bin_packets(reply):
        if "raw" in p:
            out.append(p["raw"])
            continue
        p = dict(p)
        p["cas"] = cm.tok(p["cas"])
        out.append(p)
    return out


def norm_bin_version(reply, cm):
    out = norm_bin(reply, cm)
    for p in out:
        if isinstance(p, dict) and p["op"] == 0x0B and p["status"] == 0:
            p["value"] = b"<v>"
    return out


def norm_bin_stat(reply, cm):
    """Binary stats: the names and values differ (as the text stats'
    shape-only comparison): consecutive Stat packets with a key collapse
    into one marker; the terminating empty Stat packet is kept."""
    out = []
    for p in norm_bin(reply, cm):
        if isinstance(p, dict) and p["op"] == 0x10 and p["key"]:
            if out and out[-1] == "STAT...":
                continue
            out.append("STAT...")
        else:
            out.append(p)
    return out

# ------------------------------------------------------------ cases


class Case:
    def __init__(self, name, steps, binary=False, sentinel=True, idle=None,
                 until=None, norm=None, pair="main", custom=None):
        self.name = name
        self.custom = custom  # custom(port) -> replies, instead of steps
        self.steps = steps if isinstance(steps, list) else [steps]
        self.binary = binary
        self.sentinel = sentinel
        self.idle = idle
        self.until = until
        self.norm = norm or (norm_bin if binary else norm_text)
        self.pair = pair


CASES = []


def case(name, steps, **kw):
    CASES.append(Case(name, steps, **kw))


# Cases that cannot answer alike, with the reason (docs/server.md).
EXCLUDED = {}


def refusal(binary, flags, extra, env):
    """Start binary with flags it must refuse: (exit status, stderr), or
    ("started", b"") if it is still running after 5 s (then killed)."""
    argv = [binary] + flags + ["-u", "root", "-l", "127.0.0.1",
                               "-p", str(free_port())] + extra
    try:
        p = subprocess.run(argv, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, env=env, timeout=5)
    except subprocess.TimeoutExpired:
        return ("started", b"")
    return (p.returncode, p.stderr)


def run_refusals(refusals, mcd, shm, subst, seg, env, filt):
    """Compare both servers' refusals; returns (passed, failed)."""
    passed = failed = 0
    for name, flags in refusals:
        name = "start: " + name
        if filt and filt not in name:
            continue
        flags = [subst.get(a, a) for a in flags]
        a = refusal(mcd, flags, [], env)
        b = refusal(shm, flags, ["-e", seg], env)
        for p in (seg, seg + ".meta"):
            if os.path.exists(p):
                os.unlink(p)
        if a == b and a[0] != "started":
            passed += 1
            print("ok: %s" % name)
        else:
            failed += 1
            print("FAIL: %s" % name)
            print("   memcached: %r" % (a,))
            print("   shmcached: %r" % (b,))
    return passed, failed


def sasl_setup(tmp):
    """Files -S needs: a password file for shmcached (MEMCACHED_SASL_PWDB)
    and a libsasl2 configuration for memcached (SASL_CONF_PATH: mech_list
    plain; without one, Debian's memcached will not start with -S).  Debian
    builds memcached without MEMCACHED_SASL_PWDB, so no password is right
    for both: the cases stop before a successful authentication.
    Returns the environment for both servers."""
    os.makedirs(tmp, exist_ok=True)
    with open(os.path.join(tmp, "memcached.conf"), "w") as f:
        f.write("mech_list: plain\n")
    with open(os.path.join(tmp, "pwdb"), "w") as f:
        f.write("user:secret\n")
    return dict(os.environ, SASL_CONF_PATH=tmp,
                MEMCACHED_SASL_PWDB=os.path.join(tmp, "pwdb"))


def run_case(c, mc, sc):
    if c.custom:
        a, b = c.custom(mc.port), c.custom(sc.port)
    else:
        a, b = run_steps(mc.port, c), run_steps(sc.port, c)
    na = [c.norm(r, cm) for cm in [CasMap()] for r in a]
    nb = [c.norm(r, cm) for cm in [CasMap()] for r in b]
    return na == nb, a, b, na, nb


def timed(c):
    """True if some reply of case c is read up to a silence, not up to
    the sentinel's answer."""
    return bool(c.custom) or not c.sentinel or \
        any(isinstance(st, Raw) for st in c.steps)


def main():
    args = sys.argv[1:]
    verbose = "-v" in args
    run_excluded = "-x" in args   # run the excluded cases too (to review them)
    filt = None
    if "-k" in args:
        i = args.index("-k")
        filt = args[i + 1]
        del args[i:i + 2]
    args = [a for a in args if a not in ("-v", "-x")]
    shm = args[0]
    mcd = args[1] if len(args) > 1 else "memcached"
    sys.dont_write_bytecode = True
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from parity_cases import add_cases, EXCLUDED as excl, PAIRS, REFUSALS
    add_cases(case)
    EXCLUDED.update(excl)

    tmpseg = "/dev/shm/shmcached-parity.%d" % os.getpid()
    servers = {}
    t0 = time.time()
    passed = failed = excluded = 0
    sasl_dir = "%s.sasl" % tmpseg
    try:
        authfile = "%s.auth" % tmpseg
        with open(authfile, "w") as f:
            f.write("user:secret\n")
        sasl_env = sasl_setup(sasl_dir)
        subst = {"@AUTHFILE@": authfile, "@UDPPORT@": str(free_port())}
        PAIRS = {p: [subst.get(a, a) for a in fl] for p, fl in PAIRS.items()}
        p, f = run_refusals(REFUSALS, mcd, shm, subst, "%s.refused.seg" % tmpseg,
                            sasl_env, filt)
        passed += p
        failed += f
        wanted = {c.pair for c in CASES if not filt or filt in c.name}
        for pair, flags in PAIRS.items():
            if pair not in wanted:
                continue
            env = sasl_env if "-S" in flags else None
            mc = Server([mcd] + flags, env=env)
            sc = Server([shm] + flags, seg="%s.%s.seg" % (tmpseg, pair), env=env)
            servers[pair] = (mc, sc)
            mc.start()
            sc.start()
        for c in CASES:
            if filt and filt not in c.name:
                continue
            if c.name in EXCLUDED and not run_excluded:
                excluded += 1
                if verbose:
                    print("excluded: %s (%s)" % (c.name, EXCLUDED[c.name]))
                continue
            mc, sc = servers[c.pair]
            t1 = time.time()
            ok, a, b, na, nb = run_case(c, mc, sc)
            retried = False
            if not ok and timed(c):
                # a reply read up to a silence may be cut short on a busy
                # machine: such cases get one more try (reported)
                retried = True
                ok, a, b, na, nb = run_case(c, mc, sc)
            if verbose:
                print("   (%.2f s)" % (time.time() - t1))
            if ok:
                passed += 1
                print("ok: %s%s" % (c.name, " (after a retry)" if retried else ""))
                if verbose:
                    print("   ", a)
            else:
                failed += 1
                print("FAIL: %s" % c.name)
                print("   memcached: %r" % (a,))
                print("   shmcached: %r" % (b,))
                if na != a:
                    print("   memcached (normalised): %r" % (na,))
                    print("   shmcached (normalised): %r" % (nb,))
            for who, srv in (("memcached", mc), ("shmcached", sc)):
                if not srv.alive():
                    print("FAIL: %s died after %s" % (who, c.name))
                    failed += 1
                    srv.start()
    finally:
        if os.path.exists("%s.auth" % tmpseg):
            os.unlink("%s.auth" % tmpseg)
        for name in ("memcached.conf", "pwdb"):
            if os.path.exists(os.path.join(sasl_dir, name)):
                os.unlink(os.path.join(sasl_dir, name))
        if os.path.isdir(sasl_dir):
            os.rmdir(sasl_dir)
        for mc, sc in servers.values():   # SIGTERM all, then wait
            for srv in (mc, sc):
                if srv.proc and srv.proc.poll() is None:
                    srv.proc.terminate()
        for mc, sc in servers.values():
            mc.stop()
            sc.stop()
            report = sc.sanitizer_report()
            if report:
                print("FAIL: shmcached (%s) sanitizer report:\n%s" % (
                    " ".join(sc.argv), report))
                failed += 1
    print("%d passed, %d failed, %d excluded (%.1f s)" % (
        passed, failed, excluded, time.time() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    # run as the module "parity", the one tests/parity_cases.py imports,
    # so that its classes (Raw) are the ones run_steps checks for
    sys.dont_write_bytecode = True
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import parity
    sys.exit(parity.main())
