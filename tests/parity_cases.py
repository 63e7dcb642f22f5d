"""parity_cases.py - the cases tests/parity.py sends to memcached and
shmcached: text, meta and binary requests, well-formed and bad.

add_cases(case) registers them; PAIRS gives each server pair's flags;
EXCLUDED names the cases that are defined but not run, with the reason
(each is a documented departure, docs/server.md); REFUSALS lists flag sets
both servers must refuse at start, alike.
"""
import base64
import re
import socket
import struct
import time

from parity import (Raw, bin_req, bin_packets, norm_text, norm_stats_names,
                    norm_stats_first, norm_bin, norm_bin_version,
                    norm_bin_stat, CLOSED)

# Server pairs: the same flags for memcached and shmcached.
PAIRS = {
    "main": ["-m", "64", "-t", "2", "-I", "1m"],
    "nocas": ["-m", "64", "-t", "2", "-I", "1m", "-C"],
    "small": ["-m", "64", "-t", "2", "-I", "2k", "-o", "slab_chunk_max=1024"],
    "nomem": ["-m", "8", "-t", "2", "-M"],
    # a cache of three pages: large values must not starve small ones
    "tiny": ["-m", "3", "-t", "2"],
    # a fresh cache whose reclaimed count only expired_reuse changes
    "expiry": ["-m", "64", "-t", "2"],
    # page moves on request, from a known state
    "reassign": ["-m", "64", "-t", "2"],
    # -W: watch refused; -X: metadump and cachedump refused
    "nodump": ["-m", "64", "-t", "2", "-W", "-X"],
    # memcached's TEMP LRU
    "temp": ["-m", "64", "-t", "2", "-o", "temporary_ttl=30"],
    # -Y: the authfile is written by tests/parity.py (AUTHFILE)
    "auth": ["-m", "64", "-t", "2", "-Y", "@AUTHFILE@"],
    # memcached sets RLIMIT_NOFILE to -c and needs ~16 descriptors itself
    "conns": ["-m", "64", "-t", "2", "-c", "32"],
    # -S: the binary protocol only (parity.sasl_setup writes what it needs)
    "sasl": ["-m", "64", "-t", "2", "-S"],
}

# Flag sets both servers refuse at start, compared by exit status (64)
# and stderr: the authentication rules (server/settings.c,
# settings_check_auth).  @UDPPORT@ is a free port.
REFUSALS = [
    ("-S -B ascii", ["-S", "-B", "ascii"]),
    ("-S -B auto", ["-S", "-B", "auto"]),
    ("-S -U", ["-S", "-U", "@UDPPORT@"]),
    ("-S -B binary -U", ["-S", "-B", "binary", "-U", "@UDPPORT@"]),
    ("-S -B ascii -U", ["-S", "-B", "ascii", "-U", "@UDPPORT@"]),
    ("-S -Y -B ascii", ["-S", "-Y", "@AUTHFILE@", "-B", "ascii"]),
    ("-S -Y -B auto", ["-S", "-Y", "@AUTHFILE@", "-B", "auto"]),
    ("-S -Y -B binary", ["-S", "-Y", "@AUTHFILE@", "-B", "binary"]),
    ("-S -Y -U", ["-S", "-Y", "@AUTHFILE@", "-U", "@UDPPORT@"]),
    ("-Y -B binary", ["-Y", "@AUTHFILE@", "-B", "binary"]),
    ("-Y -B auto", ["-Y", "@AUTHFILE@", "-B", "auto"]),
    ("-Y -U", ["-Y", "@AUTHFILE@", "-U", "@UDPPORT@"]),
]

PAD = ("memcached rewrites a number no longer than the old value in place, "
       "padded with spaces ('100' decr 1 stores '99 '), unless another "
       "connection holds the item; the library stores the plain decimal "
       "(include/shmcached.h, shmc_incr); the replies are compared in the "
       "'(reply)' cases")

AUTH_PIPE = ("-Y: memcached 1.6.18 reuses one response object before "
             "authentication, so of several requests in one read only the "
             "last is answered; shmcached answers each")

CRAWLER_RACE = ("memcached's LRU crawler thread stops and starts asynchronously: "
                "right after 'lru_crawler disable' (the cases before) its answers to "
                "crawl and enable depend on whether the thread has stopped yet, so "
                "under load (make check runs two tests at once) it answers 'ERROR an "
                "unknown error happened' or 'failed to start lru crawler thread' "
                "where it otherwise answers as shmcached does; not a departure")

CACHEDUMP_LRU = ("memcached 1.6.18's cachedump walks one LRU list (the class's "
                 "HOT list, whatever the class) and lists flushed items until its "
                 "LRU maintainer reclaims them, so its answer depends on that "
                 "thread's timing and on the cases before; shmcached lists every "
                 "live item of the class (docs/server.md); "
                 "tests/test_proto_text.c checks the lines")

EXCLUDED = {
    "text: watch connevents":
        "memcached streams the connection events of its other connections "
        "(a conn_close of the previous case's connection shows, or not, "
        "as it races the watch); shmcached has no connection events in "
        "its ring: connevents answers OK and streams nothing (docs/server.md)",
    "text: stats cachedump 1 0": CACHEDUMP_LRU,
    "text: stats cachedump limit 1 (count)": CACHEDUMP_LRU,
    "text: lru_crawler crawl 1,2,3": CRAWLER_RACE,
    "text: lru_crawler enable/disable sequence": CRAWLER_RACE,
    "-C: flush_all then store":
        "with -C memcached also hides items stored later within the same "
        "clock second as flush_all (it compares item times, not CAS); "
        "shmcached's flush is exact",
    "text: 251-byte key in a pipelined multi-get drops earlier replies":
        "memcached 1.6.18 discards the replies of the requests before the "
        "failing get in the same read (a response-object bug); shmcached "
        "answers each request",
    "binary: unknown opcode with extras and key":
        "memcached 1.6.18 reads the extras and key, then discards the whole "
        "body again, eating the first bytes of the next request (the "
        "sentinel Noop is never answered); shmcached discards the body once",
    "text: flush_all with an absolute time before the server started":
        "memcached turns a time before its own start into its relative "
        "time 1, which disables the flush (OK, nothing flushed); a past "
        "time after its start flushes at once, as shmcached does for any "
        "past time",
    "-Y: unauthenticated pipeline": AUTH_PIPE,
    "-Y: bad password pipelined": AUTH_PIPE,
    "text: incr/decr on the value b'5\\x00' (reply)":
        "memcached reads the value as a C string and stops at a NUL byte "
        "(5); the library does not take a value holding a NUL for a number",
    "meta: mg E flag":
        "E (explicit CAS) is a flag of memcached after 1.6.18; shmcached "
        "implements it, 1.6.18 answers CLIENT_ERROR invalid flag",
    "meta: ms E explicit cas": "as meta: mg E flag",
    "meta: ma E explicit cas": "as meta: mg E flag",
    "binary: verbosity":
        "memcached 1.6.18 answers Unknown command after reading the extras "
        "and then discards the body again, eating the first bytes of the "
        "next request; shmcached answers Unknown command and discards the "
        "body once (case binary: verbosity no extras checks the reply)",
    "text: incr on a value with spaces (stored value)": PAD,
    "text: incr wraps at 2^64 (stored value)": PAD,
    "text: decr shortens the value (stored value)": PAD,
    "text: incr leading zeros (stored value)": PAD,
    "binary: decr create, then count": PAD,
}

# Binary opcodes.
GET, SET, ADD, REPLACE, DELETE, INCR, DECR, QUIT, FLUSH, GETQ, NOOP, \
    VERSION, GETK, GETKQ, APPEND, PREPEND, STAT, SETQ, ADDQ, REPLACEQ, \
    DELETEQ, INCRQ, DECRQ, QUITQ, FLUSHQ, APPENDQ, PREPENDQ, VERBOSITY, \
    TOUCH, GAT, GATQ, GATK, GATKQ = (
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A,
        0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
        0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x23, 0x24)


def cas_of(reply):
    """The CAS of the first VALUE line (gets) or c flag (meta) in reply."""
    m = re.search(rb"^VALUE \S+ \d+ \d+ (\d+)\r$", reply, re.M)
    if m:
        return int(m.group(1))
    m = re.search(rb"^(?:VA \d+|HD)[^\r\n]* c(\d+)", reply, re.M)
    return int(m.group(1)) if m else 0


def bin_cas_of(reply):
    for p in bin_packets(reply):
        if "cas" in p and p["cas"]:
            return p["cas"]
    return 0


def set_ex(flags=0, exp=0):
    return struct.pack(">II", flags, exp)


def arith_ex(delta, initial=0, exp=0):
    return struct.pack(">QQI", delta, initial, exp)


def norm_me(reply, cm):
    """me: the slab class (cls=) is the engine's own."""
    reply = norm_text(reply, cm)
    return re.sub(rb" cls=\d+ ", b" cls=# ", reply)


def norm_dump(reply, cm):
    """lru_crawler metadump / stats cachedump: the engines list items in
    different orders (memcached: LRU order; shmcached: memory order) and
    their item headers differ in size, so the item lines are sorted, and
    times, CAS values and sizes masked, keeping -1 and 0 (never expires)
    and whether a time is in the future.  Clock and CAS values are each
    server's own; exp is checked to be after la."""
    lines = reply.split(b"\n")

    def meta(m):
        exp, la = int(m.group(2)), int(m.group(3))
        e = b"-1" if exp == -1 else (b"<la+%d>" % (exp - la))
        return b"%sexp=%s la=<t> cas=<c> %ssize=<n>" % (m.group(1), e,
                                                         m.group(4))

    out = []
    for ln in lines:
        ln = re.sub(rb"^(key=\S+ )exp=(-?\d+) la=(\d+) cas=\d+ "
                    rb"(fetch=\w+ cls=\d+ )size=\d+", meta, ln)
        ln = re.sub(rb"^(ITEM .* )\[(\d+) b; (\d+) s\]",
                    lambda m: m.group(1) + b"[" + m.group(2) + b" b; " +
                    (b"0" if m.group(3) == b"0" else b"<t>") + b" s]", ln)
        out.append(ln)
    body = [ln for ln in out if ln.startswith((b"key=", b"ITEM "))]
    rest = [ln for ln in out if not ln.startswith((b"key=", b"ITEM "))]
    return b"\n".join(sorted(body) + rest)


class Keys:
    """Fresh keys per case: k0001, k0002... so cases do not share items."""

    def __init__(self):
        self.n = 0

    def __call__(self):
        self.n += 1
        return b"k%04d" % self.n


def add_cases(case):
    nk = Keys()
    add_text_storage(case, nk)
    add_text_errors(case, nk)
    add_http(case, nk)
    add_text_retrieval(case, nk)
    add_text_arith(case, nk)
    add_text_misc(case, nk)
    add_meta(case, nk)
    add_binary(case, nk)
    add_more(case, nk)
    add_limits(case, nk)
    add_meta_sweep(case, nk)
    add_text_sweep(case, nk)
    add_binary_sweep(case, nk)
    add_nocas(case, nk)
    add_auth(case, nk)
    add_sasl(case, nk)
    add_pairs(case, nk)
    add_flush(case, nk)   # last: a delayed flush must not meet other cases


# ------------------------------------------------------------ text storage

def add_text_storage(case, nk):
    for cmd in (b"set", b"add", b"replace", b"append", b"prepend"):
        n = cmd.decode()
        k = nk()
        case("text: %s on a missing key" % n,
             b"%s %s 5 0 3\r\nabc\r\nget %s\r\n" % (cmd, k, k))
        k = nk()
        case("text: %s on an existing key" % n,
             b"set %s 1 0 3\r\nold\r\n%s %s 5 0 3\r\nnew\r\nget %s\r\n"
             % (k, cmd, k, k))
        k = nk()
        case("text: %s noreply (missing, then existing)" % n,
             b"%s %s 5 0 3 noreply\r\nabc\r\nset %s 0 0 1 noreply\r\nx\r\n"
             b"%s %s 5 0 3 noreply\r\nabc\r\nget %s\r\n"
             % (cmd, k, k, cmd, k, k))
        k = nk()
        case("text: %s with a bad data chunk" % n,
             b"set %s 0 0 1\r\nz\r\n%s %s 0 0 3\r\nabcd\r\nget %s\r\n"
             % (k, cmd, k, k))
        k = nk()
        case("text: %s with a negative length" % n,
             b"%s %s 0 0 -1\r\nget %s\r\n" % (cmd, k, k))
        k = nk()
        case("text: %s missing the length" % n,
             b"%s %s 0 0\r\nget %s\r\n" % (cmd, k, k))
        k = nk()
        case("text: %s with an extra token" % n,
             b"%s %s 0 0 1 noreply extra\r\nx\r\nget %s\r\n" % (cmd, k, k))
        k = nk()
        case("text: %s noreply with a bad data chunk" % n,
             b"%s %s 0 0 1 noreply\r\nxy\r\nget %s\r\n" % (cmd, k, k))

    k = nk()
    case("text: set flags 2^32-1 and exptime forms",
         b"set %s 4294967295 0 1\r\nx\r\ngets %s\r\n"
         b"set %s 1 -1 1\r\nx\r\nget %s\r\n" % (k, k, k, k))
    k = nk()
    case("text: set flags 2^32", b"set %s 4294967296 0 1\r\nx\r\nget %s\r\n"
         % (k, k))
    k = nk()
    case("text: set flags negative", b"set %s -1 0 1\r\nx\r\nget %s\r\n"
         % (k, k))
    k = nk()
    case("text: set flags non-numeric", b"set %s abc 0 1\r\nx\r\nget %s\r\n"
         % (k, k))
    k = nk()
    case("text: set exptime non-numeric",
         b"set %s 0 abc 1\r\nx\r\nget %s\r\n" % (k, k))
    k = nk()
    case("text: set length non-numeric",
         b"set %s 0 0 abc\r\nabc\r\nget %s\r\n" % (k, k))
    k = nk()
    case("text: set length with trailing junk",
         b"set %s 0 0 3x\r\nabc\r\nget %s\r\n" % (k, k))
    k = nk()
    case("text: set length 2^31 (INT_MAX + 1)",
         b"set %s 0 0 2147483648\r\nget %s\r\n" % (k, k))
    k = nk()
    case("text: set zero-length value", b"set %s 0 0 0\r\n\r\nget %s\r\n"
         % (k, k))
    k = nk()
    case("text: set binary-safe value (\\r\\n inside)",
         b"set %s 0 0 6\r\na\r\nb\r\n\r\nget %s\r\n" % (k, k))
    k = nk()
    case("text: set data without \\r\\n, then a command",
         [Raw(b"set %s 0 0 3\r\nabcXY" % k), b"\r\nget %s\r\n" % k])
    k = nk()
    k = nk()
    case("text: replies flow while a data block is incomplete",
         [Raw(b"get %s\r\nset %s 0 0 5\r\nab" % (k, k)), b"cde\r\nget %s\r\n" % k])
    k = nk()
    case("meta: replies wait while an ms data block is incomplete",
         [Raw(b"mg %s v\r\nms %s 5\r\nab" % (k, k)), b"cde\r\nmg %s v\r\n" % k])
    k = nk()
    case("text: replies flow while a line is incomplete",
         [Raw(b"get %s\r\nset %s 0 0" % (k, k)), b" 1\r\nx\r\nget %s\r\n" % k])
    for cmd in (b"get Z", b"gets Z", b"gat 0 Z", b"gats 0 Z", b"mn", b"delete Z",
                b"incr Z 1", b"touch Z 1", b"set Z 0 0 1\r\nx", b"mg Z v", b"md Z",
                b"ma Z", b"version", b"verbosity 0", b"bogus", b"me Z",
                b"get Z\r\ndelete Z", b"delete Z\r\nget Z", b"delete Z\r\nmn"):
        k = nk()
        first = cmd.replace(b"Z", k)
        case("text: replies before an incomplete data block, after %r" % cmd.decode(),
             [Raw(first + b"\r\nadd %s 0 0 100\r\nxx" % k),
              b"y" * 98 + b"\r\nmg %s s\r\n" % k])
    for cmd in (b"get Z", b"delete Z", b"mn"):
        k = nk()
        first = cmd.replace(b"Z", k)
        case("text: replies before a refused, skipped data block, after %r"
             % cmd.decode(),
             [Raw(first + b"\r\nset %s 0 0 2000000\r\nxx" % k),
              b"y" * 1999998 + b"\r\nmg %s s\r\n" % k], idle=5)
    case("text: set data ending \\n only",
         b"set %s 0 0 3\r\nabc\nget %s\r\n" % (k, k))
    k = nk()
    case("text: set bad chunk swallows into the next line",
         b"set %s 0 0 1\r\nabc def\r\nget %s\r\n" % (k, k))
    k = nk()
    case("text: set too large for -I (reply, swallow, next command)",
         b"set %s 0 0 1048577\r\n" % k + b"a" * 1048577 + b"\r\nget %s\r\n"
         % k, idle=5)
    k = nk()
    case("text: set too large for -I replaces the old value",
         b"set %s 0 0 1\r\nx\r\nset %s 0 0 2000000\r\n" % (k, k) +
         b"a" * 2000000 + b"\r\nget %s\r\n" % k, idle=5)
    k = nk()
    case("text: set too large noreply",
         b"set %s 0 0 1048577 noreply\r\n" % k + b"a" * 1048577 +
         b"\r\nget %s\r\n" % k, idle=5)
    k = nk()
    case("text: set large value under -I",
         b"set %s 0 0 500000\r\n" % k + b"b" * 500000 +
         b"\r\nget %s\r\n" % k, idle=5)
    k = nk()
    case("text: set huge length swallowed (no sentinel)",
         b"set %s 0 0 2147483000\r\nabc\r\n" % k, sentinel=False)
    k = nk()
    case("text: small -I: over the limit",
         b"set %s 0 0 3000\r\n" % k + b"c" * 3000 + b"\r\nget %s\r\n" % k,
         pair="small")
    k = nk()
    case("text: small -I: well under the limit",
         b"set %s 0 0 1000\r\n" % k + b"c" * 1000 + b"\r\nget %s\r\n" % k,
         pair="small")

    # cas
    k = nk()
    case("text: cas on a missing key", b"cas %s 0 0 1 1\r\nx\r\n" % k)
    k = nk()
    case("text: cas mismatch",
         [b"set %s 0 0 1\r\nx\r\ngets %s\r\n" % (k, k),
          lambda r, k=k: b"cas %s 0 0 1 %d\r\ny\r\nget %s\r\n"
          % (k, cas_of(r[0]) + 1000, k)])
    k = nk()
    case("text: cas match, then stale",
         [b"set %s 0 0 1\r\nx\r\ngets %s\r\n" % (k, k),
          lambda r, k=k: b"cas %s 3 0 1 %d\r\ny\r\ngets %s\r\n"
          b"cas %s 0 0 1 %d\r\nz\r\n"
          % (k, cas_of(r[0]), k, k, cas_of(r[0]))])
    k = nk()
    case("text: cas noreply",
         [b"set %s 0 0 1\r\nx\r\ngets %s\r\n" % (k, k),
          lambda r, k=k: b"cas %s 0 0 1 %d noreply\r\ny\r\n"
          b"cas %s 0 0 1 1 noreply\r\nz\r\ncas nokey%s 0 0 1 1 noreply\r\n"
          b"z\r\nget %s\r\n" % (k, cas_of(r[0]), k, k, k)])
    k = nk()
    case("text: cas missing the cas value",
         b"cas %s 0 0 1\r\nx\r\n" % k)
    k = nk()
    case("text: cas non-numeric cas value",
         b"cas %s 0 0 1 abc\r\nx\r\n" % k)
    k = nk()
    case("text: cas negative cas value",
         b"cas %s 0 0 1 -5\r\nx\r\n" % k)
    k = nk()
    case("text: cas with a bad data chunk",
         b"cas %s 0 0 1 1\r\nxyz\r\n" % k)
    k = nk()
    case("-C: gets shows cas 0; cas never matches",
         b"set %s 0 0 1\r\nx\r\ngets %s\r\ncas %s 0 0 1 0\r\ny\r\n"
         b"cas %s 0 0 1 1\r\ny\r\nget %s\r\n" % (k, k, k, k, k),
         pair="nocas")


# ------------------------------------------------------------ text errors

def add_http(case, nk):
    """memcached closes, with no reply, a connection whose unknown command
    line's last word (the 23rd on a longer line) begins "HTTP/": a browser
    sent it.  Commands starting with a, c, d, g, i, s or t (memcached picks
    those by their first letter), one-letter and two-letter m commands,
    known commands, and "http/" in lower case answer as always.  The reply
    of each case is "<closed>" or the usual one."""
    lines = [b"GET / HTTP/1.0", b"GET / HTTP/1.1", b"PUT /x HTTP/1.1",
             b"DELETE HTTP/1.1", b"POST /index.html HTTP/1.1",
             b"HEAD / HTTP/1.1", b"OPTIONS * HTTP/1.1", b"HTTP/1.1",
             b"  GET   /   HTTP/1.1  ", b"GET / HTTP/2.0", b"GET HTTP/",
             b"GET / HTTP/1.1\n", b"foo HTTP/1.1", b"xo HTTP/1.0",
             b"moo HTTP/1.1", b"lruX HTTP/1.1",
             # answered as usual
             b"GET / http/1.1", b"GET / HTTPS", b"GET / HTTP/1.1 x",
             b"GETHTTP/1.1", b"x HTTP/1.0", b"G HTTP/1.1", b"mz HTTP/1.1",
             b"soo HTTP/1.1", b"aoo HTTP/1.1", b"coo HTTP/1.1",
             b"doo HTTP/1.1", b"goo HTTP/1.1", b"ioo HTTP/1.1",
             b"too HTTP/1.1", b"get k HTTP/1.1", b"gets k HTTP/1.1",
             b"mg k HTTP/1.1", b"mn HTTP/1.1", b"version HTTP/1.1",
             b"verbosity HTTP/1.1", b"flush_all HTTP/1.1", b"lru HTTP/1.1",
             b"lru_crawler HTTP/1.1", b"stats HTTP/1.1", b"quit HTTP/1.1",
             b"cache_memlimit HTTP/1.1", b"slabs HTTP/1.1",
             # memcached looks at the 23rd word of a longer line
             b"GET " + b"a " * 21 + b"HTTP/1.1",
             b"GET " + b"a " * 22 + b"HTTP/1.1",
             b"GET " + b"a " * 21 + b"HTTP/1.1 b c",
             b"GET " + b"a " * 20 + b"HTTP/1.1 b c"]
    for line in lines:
        end = b"" if line.endswith(b"\n") else b"\r\n"
        case("http: %r" % line, line + end)
    case("http: after a reply in the same read",
         b"set h1 0 0 1\r\nx\r\nget h1\r\nGET / HTTP/1.1\r\n")
    case("http: in a later read", [b"version\r\n", b"GET / HTTP/1.1\r\n"])
    case("http: a data block is not a command line",
         b"set h2 0 0 8\r\nHTTP/1.1\r\nget h2\r\n")
    case("http: noreply before it",
         b"set h3 0 0 1 noreply\r\nx\r\nPUT / HTTP/1.1\r\n")


def add_text_errors(case, nk):
    k250 = b"a" * 246 + nk()[1:]
    k251 = b"b" + k250
    case("text: 250-byte key set/get/delete",
         b"set %s 0 0 1\r\nx\r\nget %s\r\ngets %s\r\ndelete %s\r\n"
         % (k250, k250, k250, k250))
    case("text: 251-byte key set", b"set %s 0 0 1\r\nx\r\n" % k251)
    case("text: 251-byte key set noreply",
         b"set %s 0 0 1 noreply\r\nx\r\n" % k251)
    case("text: 251-byte key get", b"get %s\r\n" % k251)
    case("text: 251-byte key gets", b"gets %s\r\n" % k251)
    k = nk()
    case("text: 251-byte key in a multi-get, last",
         [b"set %s 0 0 1\r\nx\r\n" % k, b"get %s %s\r\n" % (k, k251)])
    k = nk()
    case("text: 251-byte key in a pipelined multi-get drops earlier replies",
         b"set %s 0 0 1\r\nx\r\nget %s %s\r\n" % (k, k, k251))
    case("text: 251-byte key delete", b"delete %s\r\n" % k251)
    case("text: 251-byte key incr", b"incr %s 1\r\n" % k251)
    case("text: 251-byte key decr", b"decr %s 1\r\n" % k251)
    case("text: 251-byte key touch", b"touch %s 10\r\n" % k251)
    case("text: 251-byte key gat", b"gat 10 %s\r\n" % k251)
    case("text: 251-byte key cas", b"cas %s 0 0 1 1\r\nx\r\n" % k251)
    case("text: 251-byte key append", b"append %s 0 0 1\r\nx\r\n" % k251)
    k = nk()
    case("text: control char in key (set)",
         b"set %s\x01 0 0 1\r\nx\r\nget %s\x01\r\n" % (k, k))
    for ch in (b"\t", b"\x7f", b"\x1b", b"\xff"):
        k = nk()
        case("text: byte %r in key (set/get/delete)" % ch,
             b"set %s%s 0 0 1\r\nx\r\nget %s%s\r\nmg %s%s v\r\n"
             b"delete %s%s\r\n" % (k, ch, k, ch, k, ch, k, ch))
    case("text: empty line", b"\r\n")
    case("text: bare newline", b"\n")
    case("text: spaces only", b"   \r\n")
    case("text: unknown command", b"bogus\r\n")
    case("text: unknown command with arguments", b"bogus a b c\r\n")
    case("text: upper-case command", b"GET foo\r\n")
    case("text: command with leading space", b" get foo\r\n")
    case("text: line ending \\n only", b"get foo\n")
    case("text: too many tokens (set)",
         b"set" + b" a" * 30 + b"\r\n")
    case("text: too many tokens (incr)", b"incr a 1 noreply x y z\r\n")
    case("text: too many tokens (delete)", b"delete a 0 noreply x\r\n")
    case("text: too many tokens (touch)", b"touch a 1 noreply x\r\n")
    case("text: get with no key", b"get\r\n")
    case("text: get with only spaces", b"get   \r\n")
    case("text: gets with no key", b"gets\r\n")
    case("text: set with no arguments", b"set\r\n")
    case("text: set key only", b"set foo\r\n")
    case("text: long line without newline (closes)",
         b"x" * 3000, sentinel=False, idle=1)
    case("text: long line with newline", b"y" * 3000 + b"\r\n")
    case("text: long unknown command line, 2047 bytes",
         b"z" * 2045 + b"\r\n")
    case("text: long unknown command line split over sends",
         [Raw(b"w" * 1500), b"w" * 1500 + b"\r\n"], sentinel=False, idle=0.3)
    case("text: long get line (many keys, over 2048 bytes)",
         b"get" + b"".join(b" miss%04d" % i for i in range(400)) + b"\r\n")
    case("text: get line longer than 2048 without newline",
         b"get " + b"m" * 3000, sentinel=False, idle=0.3)
    case("text: 251-byte key get split over sends",
         [Raw(b"get " + b"q" * 200), b"q" * 51 + b"\r\n"])
    case("text: NUL byte in a command", b"ge\x00t foo\r\n")
    case("text: binary garbage", b"\xff\xfe\xfd\r\n")
    case("text: delete with a time argument",
         b"delete %s 10\r\n" % nk())
    case("text: delete with time 0", b"delete %s 0\r\n" % nk())
    case("text: delete with time 0 noreply", b"delete %s 0 noreply\r\n"
         % nk())
    case("text: delete with a non-numeric time",
         b"delete %s abc\r\n" % nk())
    case("text: delete with no key", b"delete\r\n")
    k = nk()
    case("text: delete hit, miss, noreply",
         b"set %s 0 0 1\r\nx\r\ndelete %s\r\ndelete %s\r\n"
         b"set %s 0 0 1\r\nx\r\ndelete %s noreply\r\nget %s\r\n"
         % (k, k, k, k, k, k))


# ------------------------------------------------------------ retrieval

def add_text_retrieval(case, nk):
    a, b, c = nk(), nk(), nk()
    setup = b"set %s 1 0 1\r\nA\r\nset %s 2 0 2\r\nBB\r\n" % (a, b)
    for cmd in (b"get", b"gets"):
        case("text: %s many keys incl. missing and repeated" % cmd.decode(),
             setup + b"%s %s %s %s %s %s\r\n" % (cmd, a, c, b, a, c))
    keys = b" ".join(b"many%03d" % i for i in range(100))
    case("text: get 100 missing keys", b"get %s\r\n" % keys)
    for cmd in (b"gat", b"gats"):
        n = cmd.decode()
        case("text: %s many keys incl. missing" % n,
             setup + b"%s 100 %s %s %s\r\n" % (cmd, a, c, b))
        case("text: %s no key" % n, b"%s 100\r\n" % cmd)
        case("text: %s no arguments" % n, b"%s\r\n" % cmd)
        case("text: %s non-numeric exptime" % n,
             setup + b"%s abc %s\r\n" % (cmd, a))
        case("text: %s negative exptime expires" % n,
             setup + b"%s -1 %s\r\nget %s\r\n" % (cmd, b, b))
    k = nk()
    case("text: touch hit and miss, noreply",
         b"set %s 0 0 1\r\nx\r\ntouch %s 100\r\ntouch %s1 100\r\n"
         b"touch %s 100 noreply\r\ntouch %s -1\r\nget %s\r\n"
         % (k, k, k, k, k, k))
    case("text: touch with a non-numeric exptime",
         b"touch %s abc\r\n" % nk())
    case("text: touch with no exptime", b"touch %s\r\n" % nk())
    case("text: touch with no key", b"touch\r\n")


# ------------------------------------------------------------ incr/decr

def add_text_arith(case, nk):
    def s(k, v):
        return b"set %s 0 0 %d\r\n%s\r\n" % (k, len(v), v)
    k = nk()
    case("text: incr/decr basic", s(k, b"10") +
         b"incr %s 5\r\ndecr %s 3\r\nget %s\r\n" % (k, k, k))
    k = nk()
    case("text: incr on a missing key", b"incr %s 1\r\ndecr %s 1\r\n"
         % (k, k))
    k = nk()
    case("text: incr on a non-numeric value", s(k, b"abc") +
         b"incr %s 1\r\ndecr %s 1\r\n" % (k, k))
    k = nk()
    case("text: incr on a value with spaces (reply)", s(k, b"12 ") +
         b"incr %s 1\r\n" % k)
    k = nk()
    case("text: incr on a value with spaces (stored value)", s(k, b"12 ") +
         b"incr %s 1\r\nget %s\r\n" % (k, k))
    k = nk()
    case("text: incr on an empty value", s(k, b"") +
         b"incr %s 1\r\n" % k)
    k = nk()
    case("text: incr on a value over 2^64", s(k, b"18446744073709551616")
         + b"incr %s 1\r\n" % k)
    k = nk()
    case("text: incr non-numeric delta", s(k, b"1") +
         b"incr %s abc\r\ndecr %s abc\r\n" % (k, k))
    k = nk()
    case("text: incr negative delta", s(k, b"1") +
         b"incr %s -1\r\n" % k)
    k = nk()
    case("text: incr delta 2^64", s(k, b"1") +
         b"incr %s 18446744073709551616\r\n" % k)
    k = nk()
    case("text: incr missing delta", s(k, b"1") + b"incr %s\r\n" % k)
    k = nk()
    case("text: incr wraps at 2^64 (reply)", s(k, b"18446744073709551615") +
         b"incr %s 2\r\nincr %s 1\r\n" % (k, k))
    k = nk()
    case("text: incr wraps at 2^64 (stored value)",
         s(k, b"18446744073709551615") + b"incr %s 2\r\nget %s\r\n" % (k, k))
    k = nk()
    case("text: decr floors at 0", s(k, b"5") +
         b"decr %s 10\r\nget %s\r\n" % (k, k))
    k = nk()
    case("text: incr lengthens the value", s(k, b"99") +
         b"incr %s 1\r\nget %s\r\n" % (k, k))
    k = nk()
    case("text: decr shortens the value (reply)", s(k, b"100") +
         b"decr %s 1\r\nincr %s 1\r\nget %s\r\n" % (k, k, k))
    k = nk()
    case("text: decr shortens the value (stored value)", s(k, b"100") +
         b"decr %s 1\r\nget %s\r\nincr %s 1\r\nget %s\r\n" % (k, k, k, k))
    k = nk()
    case("text: incr/decr noreply", s(k, b"7") +
         b"incr %s 1 noreply\r\ndecr %s 3 noreply\r\nget %s\r\n"
         b"incr %sx 1 noreply\r\n" % (k, k, k, k))
    for v in (b"00000000000000000000001", b"-5", b"+5", b" 5", b"5 ", b"5\x00",
              b"1.5", b"0x10", b"18446744073709551615 ", b"99999999999999999999",
              b"5 x", b"-0", b"\t7\r", b"-18446744073709551615"):
        k = nk()
        case("text: incr/decr on the value %r (reply)" % v, s(k, v) +
             b"incr %s 1\r\ndecr %s 1\r\nma %s v\r\n" % (k, k, k))
    k = nk()
    case("text: incr keeps flags, changes cas",
         [b"set %s 42 0 1\r\n1\r\ngets %s\r\n" % (k, k),
          b"incr %s 1\r\ngets %s\r\n" % (k, k)])
    k = nk()
    case("text: incr leading zeros (reply)", s(k, b"007") +
         b"incr %s 1\r\nincr %s 1\r\n" % (k, k))
    k = nk()
    case("text: incr leading zeros (stored value)", s(k, b"007") +
         b"incr %s 1\r\nget %s\r\n" % (k, k))


# ------------------------------------------------------------ misc text

def add_text_misc(case, nk):
    case("text: version", b"version\r\n")
    case("text: version with an argument", b"version x\r\n")
    case("text: verbosity", b"verbosity 1\r\nverbosity 0\r\n")
    case("text: verbosity noreply", b"verbosity 1 noreply\r\nverbosity 0 noreply\r\n")
    case("text: verbosity no argument", b"verbosity\r\n")
    case("text: verbosity non-numeric", b"verbosity abc\r\n")
    case("text: verbosity too many", b"verbosity 1 2 3\r\n")
    case("text: quit", b"quit\r\n", sentinel=False, idle=1)
    case("text: quit with an argument", b"quit now\r\n", sentinel=False,
         idle=1)
    case("text: quit after a get (pipelined)",
         b"get foo\r\nquit\r\nget bar\r\n", sentinel=False, idle=1)
    case("text: stats (names)", b"stats\r\n", norm=norm_stats_first)
    case("text: stats reset", b"stats reset\r\n")
    case("text: stats reset extra", b"stats reset now\r\n")
    case("text: stats settings (shape)", b"stats settings\r\n",
         norm=norm_stats_first)
    case("text: stats items (shape)", b"set stit 0 0 1\r\nx\r\nstats items\r\n",
         norm=norm_stats_first)
    case("text: stats slabs (shape)", b"stats slabs\r\n",
         norm=norm_stats_first)
    case("text: stats conns (shape)", b"stats conns\r\n",
         norm=norm_stats_first)
    case("text: stats bogus", b"stats bogus\r\n")
    case("text: stats detail no argument", b"stats detail\r\n")
    case("text: stats detail bogus", b"stats detail bogus\r\n")
    case("text: stats detail on/off", b"stats detail on\r\nstats detail off\r\n")
    case("text: stats cachedump bad args", b"stats cachedump\r\n")
    case("text: stats cachedump one arg", b"stats cachedump 1\r\n")
    case("text: stats cachedump non-numeric", b"stats cachedump a b\r\n")
    case("text: stats cachedump bad class", b"stats cachedump 9999 1\r\n")
    case("text: stats detail dump", b"stats detail dump\r\n")
    # protocol.txt "stats cachedump": ITEM <key> [<bytes> b; <exptime> s]
    # per item of the class, newest first in memcached (sorted here)
    dump_items = (b"flush_all\r\nset dump:a 5 0 3\r\nbar\r\n"
                  b"set dump:b 0 100 1\r\nz\r\nset dump%c 0 0 2\r\nxy\r\n"
                  b"get dump:a\r\n")
    case("text: stats cachedump 1 0", [dump_items, b"stats cachedump 1 0\r\n"],
         norm=norm_dump)
    case("text: stats cachedump empty class", [dump_items,
                                              b"stats cachedump 2 0\r\n"])
    case("text: stats cachedump limit 1 (count)",
         [dump_items, b"stats cachedump 1 1\r\n"],
         norm=lambda r, cm: re.sub(rb"^ITEM \S+ \[\d+ b; \d+ s\]", b"ITEM",
                                   r, flags=re.M))
    # "lru_crawler metadump": memcached hands the connection to its
    # crawler, which answers nothing after END (no sentinel)
    for arg in (b"all", b"1", b"1,2", b"hash"):
        case("text: lru_crawler metadump %s" % arg.decode(),
             [dump_items, b"lru_crawler metadump %s\r\n" % arg],
             norm=norm_dump, sentinel=False, idle=1.0,
             until=lambda b: b.endswith(b"END\r\n"))
    case("text: lru_crawler metadump 2 (empty)",
         [dump_items, b"lru_crawler metadump 2\r\n"], sentinel=False,
         idle=1.0, until=lambda b: b.endswith(b"END\r\n"))
    case("text: lru_crawler metadump bad class",
         [dump_items, b"lru_crawler metadump 99\r\n"])
    case("text: lru_crawler metadump after expiry and delete",
         [b"flush_all\r\nset dump:t 0 1 1\r\nt\r\nset dump:d 0 0 1\r\nd\r\n"
          b"set dump:k 0 0 1\r\nk\r\ndelete dump:d\r\n",
          lambda r: time.sleep(2.1) or b"lru_crawler metadump all\r\n"],
         norm=norm_dump, sentinel=False, idle=1.0,
         until=lambda b: b.endswith(b"END\r\n"))
    # protocol.txt "stats detail": PREFIX <p> get <n> hit <n> set <n> del <n>
    case("text: stats detail counts by prefix",
         b"stats detail on\r\nset dtl:a 0 0 1\r\na\r\nget dtl:a\r\n"
         b"get dtl:b dtl:a\r\nset dtl2:x 0 0 1\r\nx\r\ndelete dtl2:x\r\n"
         b"delete dtl2:y\r\nget nodelim\r\nstats detail dump\r\n"
         b"stats detail off\r\nget dtl:a\r\nstats detail dump\r\n",
         norm=lambda r, cm: b"\n".join(sorted(norm_text(r, cm).split(b"\n"))))
    case("text: stats too many args", b"stats a b c d e f\r\n")
    for arg in (b"", b" abc", b" 0", b" 7", b" 8", b" 64", b" -1",
                b" 64 noreply", b" 1 2 3"):
        case("text: cache_memlimit%s" % arg.decode(),
             b"cache_memlimit%s\r\n" % arg)
    for arg in (b"", b" reassign", b" reassign 1", b" reassign a b",
                b" reassign 1 1", b" reassign 99 1", b" reassign 1 99",
                b" reassign -1 1", b" automove", b" automove 0",
                b" automove 1", b" automove 3", b" automove abc",
                b" bogus", b" reassign 1 2 noreply"):
        case("text: slabs%s" % arg.decode(), b"slabs%s\r\n" % arg)
    for arg in (b"", b" bogus", b" crawl", b" crawl abc", b" crawl 0",
                b" crawl 999", b" crawl all", b" sleep", b" sleep abc",
                b" sleep 2000000", b" sleep 100", b" tocrawl",
                b" tocrawl abc", b" tocrawl 10", b" enable", b" disable",
                b" metadump", b" mgdump", b" crawl 1,2,3"):
        case("text: lru_crawler%s" % arg.decode(),
             b"lru_crawler%s\r\n" % arg)
    case("text: lru_crawler enable/disable sequence",
         b"lru_crawler disable\r\nlru_crawler disable\r\nlru_crawler enable\r\n"
         b"lru_crawler enable\r\n")
    for arg in (b"", b" bogus", b" tune", b" tune 10 20 0.1 2",
                b" mode segmented", b" mode flat", b" mode bogus",
                b" temp_ttl 0", b" temp_ttl abc"):
        case("text: lru%s" % arg.decode(), b"lru%s\r\n" % arg)
    case("text: shutdown without -A", b"shutdown\r\n")
    case("text: misbehave", b"misbehave\r\n")
    # protocol.txt "watch": OK, then log lines (none: nothing else runs);
    # the words memcached 1.6.18 knows, and ERROR for any other
    case("text: watch", b"watch\r\n", sentinel=False, idle=0.3)
    for arg in (b"fetchers", b"mutations evictions", b"fetchers fetchers",
                b"rawcmds", b"connevents", b"bogus", b"deletions",
                b"fetchers bogus", b"FETCHERS"):
        case("text: watch %s" % arg.decode(), b"watch %s\r\n" % arg,
             sentinel=False, idle=0.3)
    case("text: mn noop", b"mn\r\n")


# ------------------------------------------------------------ meta

def add_meta(case, nk):
    def s(k, v=b"val", flags=b""):
        return b"ms %s %d%s\r\n%s\r\n" % (k, len(v), flags, v)
    k = nk()
    case("meta: mg miss / mg hit no flags", b"mg %s\r\n" % k + s(k) +
         b"mg %s\r\nmg %s v\r\n" % (k, k))
    k = nk()
    case("meta: mg all flags", s(k, b"hello", b" F7 T100") +
         b"mg %s v k s f c t h l O42\r\nmg %s h l\r\n" % (k, k))
    k = nk()
    case("meta: mg miss with k and O", b"mg %s k O99 v\r\n" % k)
    k = nk()
    case("meta: mg quiet miss / hit",
         s(k) + b"mg %sz v q\r\nmg %s v q\r\nmg %sz k q O1\r\n" % (k, k, k))
    k = nk()
    case("meta: mg quiet hit without v is HD suppressed",
         s(k) + b"mg %s q\r\nmg %s q k\r\n" % (k, k))
    k = nk()
    case("meta: mg t on an item without TTL and with TTL",
         s(k) + b"mg %s t\r\nms %s 1 T300\r\nx\r\nmg %s t v\r\n" % (k, k, k))
    k = nk()
    case("meta: mg T updates TTL (touch)",
         s(k) + b"mg %s T300 t\r\nmg %s t\r\n" % (k, k))
    k = nk()
    case("meta: mg N vivify miss then hit",
         b"mg %s N30 s c v t\r\nmg %s N30 s v t\r\nmg %s v\r\n" % (k, k, k))
    k = nk()
    case("meta: mg N vivify with q",
         b"mg %s N30 q v\r\nmg %s N30 q v\r\n" % (k, k))
    k = nk()
    case("meta: mg R recache",
         s(k, b"v", b" T100") + b"mg %s R200 v c\r\nmg %s R200 v\r\n"
         b"mg %s v\r\n" % (k, k, k))
    k = nk()
    case("meta: mg E flag",
         s(k) + b"mg %s E5 c\r\n" % k)
    k = nk()
    case("meta: mg base64 key", s(base64.b64encode(k), b"x", b" b") +
         b"mg %s b v k\r\nmg %s v\r\n" % (base64.b64encode(k), k))
    case("meta: mg bad base64 key", b"mg !!!! b v\r\n")
    case("meta: mg base64 key with bad length", b"mg abc b v\r\n")
    case("meta: mg base64 key decoding over 250 bytes",
         b"mg %s b v\r\n" % base64.b64encode(b"x" * 251))
    case("meta: mg no key", b"mg\r\n")
    case("meta: mg bad flag", b"mg %s v !\r\n" % nk())
    case("meta: mg unknown letter flag", b"mg %s v z\r\n" % nk())
    case("meta: mg duplicate flags", s(b"dupk") + b"mg dupk v v s s\r\n")
    case("meta: mg token too long", b"mg %s O%s\r\n" % (nk(), b"1" * 40))
    case("meta: mg opaque over 32 bytes", b"mg %s O%s\r\n"
         % (nk(), b"x" * 33))
    case("meta: mg numeric flag non-numeric", b"mg %s T abc\r\n" % nk())
    case("meta: mg N non-numeric", b"mg %s Nabc v\r\n" % nk())
    case("meta: mg T non-numeric", s(b"tnon") + b"mg tnon Tabc\r\n")
    case("meta: mg 250-byte key", b"mg %s v\r\n" % (b"m" * 250))
    case("meta: mg 251-byte key", b"mg %s v\r\n" % (b"m" * 251))
    case("meta: mg too many tokens", b"mg k" + b" v" * 30 + b"\r\n")
    k = nk()
    case("meta: mg on a -C server shows c0",
         s(k) + b"mg %s c v\r\n" % k, pair="nocas")

    # ms
    k = nk()
    case("meta: ms basic and flags", s(k, b"abc", b" F5 T0 c k O7") +
         b"mg %s v f\r\n" % k)
    k = nk()
    case("meta: ms I invalidate",
         s(k) + b"ms %s 3 I\r\nnew\r\nmg %s v c\r\n" % (k, k))
    k = nk()
    case("meta: ms q (quiet success)", s(k, b"a", b" q") +
         b"ms %s 1 q MA\r\nb\r\nms %s 1 q\r\nc\r\nmg %s v\r\n" % (k, k, k))
    k = nk()
    case("meta: ms quiet failure shown",
         b"ms %s 1 q ME\r\nb\r\nms %s 1 q MR\r\nb\r\n" % (k, k + b"x"))
    for mode in (b"E", b"A", b"P", b"R", b"S", b"e", b"a", b"p", b"r", b"s"):
        k = nk()
        case("meta: ms M%s on a missing key" % mode.decode(),
             b"ms %s 2 M%s\r\nxy\r\nmg %s v\r\n" % (k, mode, k))
        k = nk()
        case("meta: ms M%s on an existing key" % mode.decode(),
             s(k, b"old") + b"ms %s 2 M%s\r\nxy\r\nmg %s v\r\n"
             % (k, mode, k))
    for mode in (b"E", b"A", b"P", b"R", b"S"):
        k = nk()
        case("meta: ms M%s with a wrong C" % mode.decode(),
             s(k, b"old") + b"ms %s 2 M%s C999999\r\nxy\r\nmg %s v\r\n"
             % (k, mode, k))
        k = nk()
        case("meta: ms M%s with the right C" % mode.decode(),
             [s(k, b"old", b" c"),
              lambda r, k=k, mode=mode: b"ms %s 2 M%s C%d\r\nxy\r\n"
              b"mg %s v\r\n" % (k, mode, cas_of(r[0]), k)])
    k = nk()
    case("meta: ms bad mode", b"ms %s 1 MX\r\nx\r\nmg %s v\r\n" % (k, k))
    k = nk()
    case("meta: ms empty mode", b"ms %s 1 M\r\nx\r\n" % k)
    k = nk()
    case("meta: ms C compare",
         [s(k, b"a", b" c"),
          lambda r, k=k: b"ms %s 1 C%d\r\nb\r\nms %s 1 C%d\r\nc\r\n"
          b"mg %s v\r\n" % (k, cas_of(r[0]), k, cas_of(r[0]), k)])
    k = nk()
    case("meta: ms C on a missing key", b"ms %s 1 C99\r\nb\r\n" % k)
    k = nk()
    case("meta: ms E explicit cas",
         s(k, b"a", b" E12345 c") + b"mg %s c v\r\nms %s 1 C12345 c\r\n"
         b"b\r\nms %s 1 C12345\r\nc\r\n" % (k, k, k))
    k = nk()
    case("meta: ms append with N vivify",
         b"ms %s 2 MA N30\r\nab\r\nmg %s v\r\n" % (k, k))
    k = nk()
    case("meta: ms base64 key", b"ms %s 1 b k\r\nx\r\nmg %s v\r\n"
         % (base64.b64encode(k), k))
    k = nk()
    case("meta: ms bad data chunk", b"ms %s 2\r\nabc\r\nmg %s v\r\n"
         % (k, k))
    k = nk()
    case("meta: ms data without \\r\\n", [Raw(b"ms %s 2\r\nabXY" % k),
                                          b"\r\nmg %s v\r\n" % k])
    case("meta: ms no length", b"ms %s\r\n" % nk())
    case("meta: ms no key", b"ms\r\n")
    case("meta: ms negative length", b"ms %s -1\r\n" % nk())
    case("meta: ms non-numeric length", b"ms %s abc\r\nabc\r\n" % nk())
    case("meta: ms too large for -I",
         b"ms %s 1048577\r\n" % nk() + b"a" * 1048577 + b"\r\n", idle=5)
    case("meta: ms 251-byte key", b"ms %s 1\r\nx\r\n" % (b"s" * 251))
    case("meta: ms bad flag", b"ms %s 1 !\r\nx\r\n" % nk())
    case("meta: ms F non-numeric", b"ms %s 1 Fabc\r\nx\r\n" % nk())
    case("meta: ms T non-numeric", b"ms %s 1 Tabc\r\nx\r\n" % nk())
    case("meta: ms C non-numeric", b"ms %s 1 Cabc\r\nx\r\n" % nk())
    case("meta: ms old-style S flag", b"ms %s S1\r\nx\r\n" % nk())
    case("meta: ms too many tokens", b"ms k 1" + b" T1" * 30 + b"\r\nx\r\n")
    k = nk()
    case("meta: ms flags 2^32-1 and 2^32",
         b"ms %s 1 F4294967295\r\nx\r\nmg %s f\r\nms %s 1 F4294967296\r\n"
         b"y\r\n" % (k, k, k))

    # md
    k = nk()
    case("meta: md hit, miss, quiet",
         s(k) + b"md %s\r\nmd %s\r\nmd %s q\r\n" % (k, k, k) + s(k) +
         b"md %s q\r\nmg %s\r\n" % (k, k))
    k = nk()
    case("meta: md with k O flags", s(k) + b"md %s k O5\r\n" % k)
    k = nk()
    case("meta: md C compare", [s(k, b"a", b" c"),
                                lambda r, k=k: b"md %s C%d\r\nmd %s C%d\r\n"
                                % (k, cas_of(r[0]) + 1, k, cas_of(r[0]))])
    k = nk()
    case("meta: md I invalidate then mg",
         s(k) + b"md %s I T30\r\nmg %s v c\r\nmg %s v\r\n" % (k, k, k))
    # a stale set (ms I with an older CAS) keeps the item's TTL and the
    # fact that its recache token was handed out: later readers get Z
    k = nk()
    case("meta: ms I stale set keeps TTL and the sent token",
         [s(k, b"a", b" c"),
          b"md %s I\r\nmg %s v c\r\n" % (k, k),
          lambda r, k=k: b"ms %s 1 I T90 C%d\r\nb\r\nmg %s v t c\r\n"
          b"mg %s v t\r\n" % (k, cas_of(r[0]), k, k)])
    k = nk()
    case("meta: ms I stale set before any reader: one W",
         [s(k, b"a", b" c"),
          b"md %s I\r\n" % k,
          lambda r, k=k: b"ms %s 1 I T90 C%d\r\nb\r\nmg %s v t\r\n"
          b"mg %s v t\r\n" % (k, cas_of(r[0]), k, k)])
    # the recache token of values larger than a first read buffer
    for size in (300, 3000, 70000):
        k = nk()
        case("meta: mg R30 W on a %d-byte value" % size,
             s(k, b"r" * size, b" T20") +
             b"mg %s s R30 v\r\nmg %s s R30 v\r\nmg %s s R30\r\n" % (k, k, k))
        k = nk()
        case("meta: md I then W on a %d-byte value" % size,
             s(k, b"i" * size) +
             b"md %s I\r\nmg %s s v\r\nmg %s s v\r\n" % (k, k, k))
    k = nk()
    case("meta: md base64", s(k) + b"md %s b\r\nmg %s\r\n"
         % (base64.b64encode(k), k))
    case("meta: md no key", b"md\r\n")
    case("meta: md bad flag", b"md %s !\r\n" % nk())
    case("meta: md 251-byte key", b"md %s\r\n" % (b"d" * 251))

    # ma
    k = nk()
    case("meta: ma incr/decr and v",
         s(k, b"10") + b"ma %s\r\nma %s v\r\nma %s MD D5 v\r\n"
         b"ma %s M- D100 v\r\nma %s M+ D3 v t c\r\n" % (k, k, k, k, k))
    k = nk()
    case("meta: ma miss", b"ma %s\r\nma %s v\r\nma %s q\r\n" % (k, k, k))
    k = nk()
    case("meta: ma N autovivify with J initial",
         b"ma %s N0 J13 v\r\nma %s N0 J13 v\r\nma %s MD N0 J5 v\r\n"
         % (k, k, k + b"d"))
    k = nk()
    case("meta: ma non-numeric value", s(k, b"abc") + b"ma %s\r\n" % k)
    k = nk()
    case("meta: ma non-numeric delta", s(k, b"1") + b"ma %s Dabc\r\n" % k)
    k = nk()
    case("meta: ma bad mode", s(k, b"1") + b"ma %s MX\r\nma %s Mi\r\n"
         % (k, k))
    k = nk()
    case("meta: ma modes I i + D d -",
         s(k, b"50") + b"ma %s MI v\r\nma %s Mi v\r\nma %s M+ v\r\n"
         b"ma %s Md v\r\nma %s M- v\r\n" % (k, k, k, k, k))
    k = nk()
    case("meta: ma wrap and floor", s(k, b"18446744073709551615") +
         b"ma %s v\r\nma %s MD D5 v\r\n" % (k, k))
    k = nk()
    case("meta: ma C compare", [s(k, b"1", b" c"),
                                lambda r, k=k: b"ma %s C%d v\r\nma %s C%d v\r\n"
                                % (k, cas_of(r[0]), k, cas_of(r[0]))])
    k = nk()
    case("meta: ma quiet", s(k, b"1") + b"ma %s q\r\nma %s q v\r\nma %sx q\r\n"
         % (k, k, k))
    case("meta: ma no key", b"ma\r\n")
    case("meta: ma 251-byte key", b"ma %s\r\n" % (b"i" * 251))
    k = nk()
    case("meta: ma T and N non-numeric",
         b"ma %s N0 Jabc\r\nma %s Tabc\r\nma %s Nabc\r\n" % (k, k, k))
    k = nk()
    case("meta: ma E explicit cas", s(k, b"1") + b"ma %s E777 c v\r\n" % k)

    # mn, me
    case("meta: mn", b"mn\r\n")
    case("meta: mn with arguments", b"mn foo\r\n")
    k = nk()
    case("meta: me debug (cls normalised)", s(k) + b"me %s\r\n" % k,
         norm=norm_me)
    k = nk()
    case("meta: me with TTL, flags, after a get",
         b"set %s 5 100 3\r\nabc\r\nme %s\r\nget %s\r\nme %s\r\n"
         % (k, k, k, k), norm=norm_me)
    k = nk()
    case("meta: me on -C", b"set %s 0 0 3\r\nabc\r\nme %s\r\n" % (k, k),
         norm=norm_me, pair="nocas")
    for v, get in ((b"5", False), (b"5", True), (b"9", False), (b"9", True)):
        k = nk()
        case("meta: fetched bit after incr of %s%s" % (v.decode(),
             " after a get" if get else ""),
             b"set %s 0 0 1\r\n%s\r\n" % (k, v) +
             (b"get %s\r\n" % k if get else b"") +
             b"incr %s 1\r\nmg %s h\r\nme %s\r\n" % (k, k, k), norm=norm_me)
    case("meta: me miss", b"me %s\r\n" % nk())
    case("meta: me no key", b"me\r\n")
    case("meta: me base64", b"me %s b\r\n" % base64.b64encode(nk()))
    case("meta: me 251-byte key", b"me %s\r\n" % (b"e" * 251))
    case("meta: unknown meta command", b"mz foo\r\n")
    case("meta: quiet pipeline with mn",
         b"ms q1 1 q\r\na\r\nmg q1 v q\r\nmg q1nope v q\r\nmd q1 q\r\n"
         b"md q1 q\r\nmn\r\n")


# ------------------------------------------------------------ binary

def add_binary(case, nk):
    def bcase(name, steps, **kw):
        case("binary: " + name, steps, binary=True, **kw)

    k = nk()
    bcase("set/get/getk/getq/getkq", bin_req(SET, k, b"val", set_ex(7)) +
          bin_req(GET, k, opaque=1) + bin_req(GETK, k, opaque=2) +
          bin_req(GETQ, k, opaque=3) + bin_req(GETKQ, k, opaque=4) +
          bin_req(GETQ, k + b"x", opaque=5) +
          bin_req(GETKQ, k + b"x", opaque=6) + bin_req(GET, k + b"x") +
          bin_req(GETK, k + b"x"))
    for op, qop, name in ((SET, SETQ, "set"), (ADD, ADDQ, "add"),
                          (REPLACE, REPLACEQ, "replace")):
        k = nk()
        bcase("%s missing then existing" % name,
              bin_req(op, k, b"v1", set_ex(1)) +
              bin_req(op, k, b"v2", set_ex(2)) + bin_req(GET, k))
        k = nk()
        bcase("%sq missing then existing" % name,
              bin_req(qop, k, b"v1", set_ex(1), opaque=9) +
              bin_req(qop, k, b"v2", set_ex(2), opaque=10) + bin_req(GET, k))
        k = nk()
        bcase("%s with cas" % name,
              [bin_req(SET, k, b"v", set_ex()),
               lambda r, k=k, op=op: bin_req(op, k, b"w", set_ex(),
                                             cas=bin_cas_of(r[0])) +
               bin_req(op, k, b"x", set_ex(), cas=1) + bin_req(GET, k)])
        k = nk()
        bcase("%s cas on a missing key" % name,
              bin_req(op, k, b"v", set_ex(), cas=5))
        bcase("%s bad extras length" % name,
              bin_req(op, nk(), b"v", b"\0\0\0\0"), sentinel=False, idle=0.3)
        bcase("%s no extras" % name, bin_req(op, nk(), b"v"),
              sentinel=False, idle=0.3)
        bcase("%s key too long" % name,
              bin_req(op, b"L" * 251, b"v", set_ex()))
        bcase("%s empty key" % name, bin_req(op, b"", b"v", set_ex()),
              sentinel=False, idle=0.3)
        bcase("%s too large for -I" % name,
              bin_req(op, nk(), b"v" * 1048577, set_ex()), idle=5)
    k = nk()
    bcase("set -C gives cas 0", bin_req(SET, k, b"v", set_ex()) +
          bin_req(GET, k), pair="nocas")
    for op, qop, name in ((APPEND, APPENDQ, "append"),
                          (PREPEND, PREPENDQ, "prepend")):
        k = nk()
        bcase("%s missing then existing" % name,
              bin_req(op, k, b"x") + bin_req(SET, k, b"mid", set_ex(3)) +
              bin_req(op, k, b"x") + bin_req(qop, k, b"y") + bin_req(GET, k))
        bcase("%s with extras" % name, bin_req(op, nk(), b"x", set_ex()),
              sentinel=False, idle=0.3)
        k = nk()
        bcase("%s with cas" % name,
              [bin_req(SET, k, b"v", set_ex()),
               lambda r, k=k, op=op: bin_req(op, k, b"w",
                                             cas=bin_cas_of(r[0])) +
               bin_req(op, k, b"x", cas=1) + bin_req(GET, k)])
    k = nk()
    bcase("delete hit, miss, quiet",
          bin_req(SET, k, b"v", set_ex()) + bin_req(DELETE, k) +
          bin_req(DELETE, k) + bin_req(SET, k, b"v", set_ex()) +
          bin_req(DELETEQ, k) + bin_req(DELETEQ, k, opaque=77) +
          bin_req(GET, k))
    k = nk()
    bcase("delete with cas", [bin_req(SET, k, b"v", set_ex()),
                              lambda r, k=k: bin_req(DELETE, k, cas=1) +
                              bin_req(DELETE, k, cas=bin_cas_of(r[0]))])
    bcase("delete with extras", bin_req(DELETE, nk(), extras=b"\0" * 4),
          sentinel=False, idle=0.3)
    bcase("delete with a value", bin_req(DELETE, nk(), b"zz"),
          sentinel=False, idle=0.3)
    bcase("delete key too long", bin_req(DELETE, b"D" * 251))
    for op, qop, name in ((INCR, INCRQ, "incr"), (DECR, DECRQ, "decr")):
        k = nk()
        bcase("%s create, then count (reply)" % name,
              bin_req(op, k, extras=arith_ex(5, 100, 0)) +
              bin_req(op, k, extras=arith_ex(5, 100, 0)) +
              bin_req(qop, k, extras=arith_ex(1, 0, 0)) +
              bin_req(op, k, extras=arith_ex(0, 0, 0)))
        k = nk()
        bcase("%s create, then count" % name,
              bin_req(op, k, extras=arith_ex(5, 100, 0)) +
              bin_req(op, k, extras=arith_ex(5, 100, 0)) +
              bin_req(qop, k, extras=arith_ex(1, 0, 0)) + bin_req(GET, k))
        k = nk()
        bcase("%s no-create (0xffffffff)" % name,
              bin_req(op, k, extras=arith_ex(5, 100, 0xFFFFFFFF)) +
              bin_req(qop, k, extras=arith_ex(5, 100, 0xFFFFFFFF),
                      opaque=3))
        k = nk()
        bcase("%s on a non-numeric value" % name,
              bin_req(SET, k, b"abc", set_ex()) +
              bin_req(op, k, extras=arith_ex(1)))
        bcase("%s bad extras length" % name,
              bin_req(op, nk(), extras=b"\0" * 8), sentinel=False, idle=0.3)
        bcase("%s with a value" % name,
              bin_req(op, nk(), b"1", extras=arith_ex(1)),
              sentinel=False, idle=0.3)
        k = nk()
        bcase("%s with cas" % name,
              [bin_req(SET, k, b"5", set_ex()),
               lambda r, k=k, op=op: bin_req(op, k, extras=arith_ex(1),
                                             cas=1) +
               bin_req(op, k, extras=arith_ex(1), cas=bin_cas_of(r[0]))])
        bcase("%s key too long" % name,
              bin_req(op, b"N" * 251, extras=arith_ex(1)))
    k = nk()
    bcase("incr wraps at 2^64", bin_req(SET, k, b"18446744073709551615",
                                        set_ex()) +
          bin_req(INCR, k, extras=arith_ex(2)))
    k = nk()
    bcase("decr floors at 0", bin_req(SET, k, b"3", set_ex()) +
          bin_req(DECR, k, extras=arith_ex(10)))
    k = nk()
    bcase("incr created with expiration", bin_req(
        INCR, k, extras=arith_ex(1, 9, 100)) + bin_req(GET, k))
    k = nk()
    bcase("incr lengthens value", bin_req(SET, k, b"99", set_ex()) +
          bin_req(INCR, k, extras=arith_ex(1)) + bin_req(GET, k))
    bcase("noop", bin_req(NOOP, opaque=3))
    bcase("noop with a key", bin_req(NOOP, b"k"), sentinel=False, idle=0.3)
    bcase("version", bin_req(VERSION, opaque=8), norm=norm_bin_version)
    bcase("version with extras", bin_req(VERSION, extras=b"\0" * 4),
          sentinel=False, idle=0.3)
    bcase("quit", bin_req(QUIT, opaque=4), sentinel=False, idle=1)
    bcase("quitq", bin_req(QUITQ, opaque=4), sentinel=False, idle=1)
    bcase("quit with a key", bin_req(QUIT, b"k"), sentinel=False, idle=1)
    bcase("stat (names)", bin_req(STAT), norm=norm_bin_stat)
    bcase("stat settings (names)", bin_req(STAT, b"settings"),
          norm=norm_bin_stat)
    bcase("stat bogus", bin_req(STAT, b"bogus"))
    bcase("stat reset", bin_req(STAT, b"reset"))
    bcase("stat detail dump", bin_req(STAT, b"detail dump"),
          norm=norm_bin_stat)
    k = nk()
    bcase("touch hit and miss", bin_req(SET, k, b"v", set_ex(4)) +
          bin_req(TOUCH, k, extras=struct.pack(">I", 100)) +
          bin_req(TOUCH, k + b"x", extras=struct.pack(">I", 100)))
    bcase("touch no extras", bin_req(TOUCH, nk()), sentinel=False, idle=0.3)
    k = nk()
    bcase("gat/gatq/gatk/gatkq",
          bin_req(SET, k, b"v", set_ex(4)) +
          bin_req(GAT, k, extras=struct.pack(">I", 100)) +
          bin_req(GATQ, k, extras=struct.pack(">I", 100)) +
          bin_req(GATK, k, extras=struct.pack(">I", 100)) +
          bin_req(GATKQ, k, extras=struct.pack(">I", 100)) +
          bin_req(GATQ, k + b"x", extras=struct.pack(">I", 100)) +
          bin_req(GATKQ, k + b"x", extras=struct.pack(">I", 100)) +
          bin_req(GAT, k + b"x", extras=struct.pack(">I", 100)))
    bcase("gat key too long", bin_req(GAT, b"G" * 251,
                                      extras=struct.pack(">I", 1)))
    bcase("get key too long", bin_req(GET, b"G" * 251))
    bcase("getq key too long", bin_req(GETQ, b"G" * 251))
    bcase("get with extras", bin_req(GET, nk(), extras=b"\0" * 4),
          sentinel=False, idle=0.3)
    bcase("get no key", bin_req(GET, b""), sentinel=False, idle=0.3)
    bcase("verbosity", bin_req(VERBOSITY, extras=struct.pack(">I", 0)))
    bcase("verbosity no extras", bin_req(VERBOSITY))
    for op in (0x1F, 0x20, 0x25, 0x30, 0x3F, 0x40, 0x80, 0xFE):
        bcase("unknown opcode 0x%02x" % op, bin_req(op, opaque=6))
    bcase("unknown opcode with a body", bin_req(0x45, value=b"abc"))
    bcase("unknown opcode with extras and key",
          bin_req(0x45, b"kk", b"vv", extras=b"e"))
    bcase("bad magic", bin_req(GET, b"k", magic=0x81), sentinel=False,
          idle=0.3)
    bcase("bad magic after a good request",
          bin_req(NOOP, opaque=1) + bin_req(GET, b"k", magic=0x82),
          sentinel=False, idle=0.3)
    bcase("body shorter than key+extras",
          bin_req(SET, b"key", b"", set_ex(), bodylen=5), sentinel=False,
          idle=0.3)
    bcase("keylen past the body", bin_req(GET, b"k", keylen=10) + b"x" * 20,
          sentinel=False, idle=0.3)
    bcase("huge body length", bin_req(SET, b"k", b"", set_ex(),
                                      bodylen=0x7FFFFFFF),
          sentinel=False, idle=0.3)
    bcase("huge key length", bin_req(GET, b"", keylen=0xFFFF,
                                     bodylen=0xFFFF),
          sentinel=False, idle=0.3)
    bcase("datatype non-zero", bin_req(GET, nk(), datatype=1))
    k = nk()
    bcase("replies flow while a body is incomplete",
          [Raw(bin_req(GET, k) + bin_req(SET, k, b"value", set_ex())[:30]),
           bin_req(SET, k, b"value", set_ex())[30:] + bin_req(GET, k)])
    k = nk()
    bcase("replies flow while a header is incomplete",
          [Raw(bin_req(GET, k) + bin_req(GET, k)[:10]), bin_req(GET, k)[10:]])
    bcase("partial header then rest",
          [Raw(bin_req(GET, b"part")[:10]), bin_req(GET, b"part")[10:]])
    bcase("sasl list mechs without -S", bin_req(0x20))


# ------------------------------------------------------------ more edges

def add_more(case, nk):
    k = nk()
    case("text: exptime over 30 days is an absolute time (past)",
         b"set %s 0 2592001 1\r\nx\r\nget %s\r\n" % (k, k))
    k = nk()
    case("text: exptime 30 days exactly is relative",
         b"set %s 0 2592000 1\r\nx\r\nget %s\r\n" % (k, k))
    k = nk()
    case("text: absolute exptime in the future",
         [lambda r, k=k: b"set %s 0 %d 1\r\nx\r\nget %s\r\n"
          % (k, int(time.time()) + 100, k)])
    k = nk()
    case("text: exptime 2^31-1 and 2^31", b"set %s 0 2147483647 1\r\nx\r\n"
         b"get %s\r\nset %s 0 2147483648 1\r\nx\r\n" % (k, k, k))
    for e in (b"4294967296", b"9999999999", b"-2147483649", b"-4294967296",
              b"9223372036854775807", b"9223372036854775808",
              b"-9223372036854775808", b"-9223372036854775809"):
        k = nk()
        # (no "t": an absolute time's remaining seconds depend on where
        # each server is within its clock second)
        case("text: exptime %s (memcached keeps the low 32 bits)" % e.decode(),
             b"set %s 0 %s 1\r\nx\r\nget %s\r\ntouch %s %s\r\n"
             b"gat %s %s\r\nmg %s T%s v\r\nms %s 1 T%s\r\ny\r\n"
             b"mg %s N%s v\r\n"
             % (k, e, k, k, e, e, k, k, e, k, e, k + b"n", e))
    k = nk()
    case("text: length 4294967297 is 1", b"set %s 0 0 4294967297\r\nx\r\n"
         b"get %s\r\nms %s 4294967298\r\nyz\r\nmg %s v\r\n" % (k, k, k, k))
    case("text: verbosity 2^32 and 2^64",
         b"verbosity 4294967296\r\nverbosity 18446744073709551616\r\n"
         b"verbosity 0\r\n")
    k = nk()
    case("text: touch noreply then get", b"set %s 0 0 1\r\nx\r\n"
         b"touch %s -1 noreply\r\nget %s\r\n" % (k, k, k))
    k = nk()
    case("text: get with noreply is a key", b"set noreply 0 0 1\r\nn\r\n"
         b"get %s noreply\r\n" % k)
    k = nk()
    case("text: incr with a plus sign and leading zero",
         b"set %s 0 0 1\r\n1\r\nincr %s +5\r\nincr %s 05\r\n" % (k, k, k))
    k = nk()
    case("text: incr delta 2^64-1", b"set %s 0 0 1\r\n1\r\n"
         b"incr %s 18446744073709551615\r\n" % (k, k))
    k = nk()
    case("text: cas noreply bad data chunk",
         b"cas %s 0 0 1 1 noreply\r\nxyz\r\nget %s\r\n" % (k, k))
    for arg in (b" graceful", b" foo", b" 1 2"):
        case("text: shutdown%s without -A" % arg.decode(),
             b"shutdown%s\r\n" % arg)
    case("text: verbosity negative", b"verbosity -1\r\n")
    case("text: version noreply", b"version noreply\r\n")
    case("text: mn then quit", b"mn\r\nquit\r\n", sentinel=False, idle=1)
    k = nk()
    case("meta: ms T-1 expires at once", b"ms %s 1 T-1\r\nx\r\nmg %s v\r\n"
         % (k, k))
    k = nk()
    case("meta: mg u (no LRU bump) and h l",
         b"ms %s 1\r\nx\r\nmg %s u h l v\r\nmg %s h\r\n" % (k, k, k))
    k = nk()
    case("meta: mg N with T and t", b"mg %s N30 T60 t v c\r\n" % k)
    k = nk()
    case("meta: ms invalid base64 key", b"ms %s 1 b\r\nx\r\n" % b"!!!!")
    k = nk()
    case("meta: md q miss is shown", b"md %s q\r\nmn\r\n" % k)
    k = nk()
    case("meta: ma N with T and J, then t",
         b"ma %s N100 J7 T50 v t\r\nma %s v t\r\n" % (k, k))
    k = nk()
    case("meta: ms with mg-only flags", b"ms %s 1 v s h l\r\nx\r\n" % k)
    k = nk()
    case("meta: md with ms-only flags", b"md %s F5\r\n" % k)
    k = nk()
    case("meta: mg k with base64 key", b"ms %s 1 b\r\nx\r\nmg %s b k v\r\n"
         % (base64.b64encode(k), base64.b64encode(k)))
    k = nk()
    case("meta: ms key only", b"ms %s\r\n" % k)
    k = nk()
    case("meta: ms I on a missing key", b"ms %s 1 I\r\nx\r\n" % k)
    k = nk()
    case("meta: mg on an invalidated item with q",
         b"ms %s 1\r\nx\r\nmd %s I q\r\nmg %s v q\r\nmg %s v q\r\n"
         % (k, k, k, k))
    k = nk()
    case("meta: mg O and k on a miss with q",
         b"mg %s O1 k q\r\nmg %s O2 k\r\n" % (k, k))
    case("binary: getk miss returns the key", bin_req(GETK, nk(), opaque=3),
         binary=True)
    case("binary: gat miss, gatk miss", bin_req(GAT, nk(), extras=struct.pack(
        ">I", 1)) + bin_req(GATK, nk(), extras=struct.pack(">I", 1)),
         binary=True)
    k = nk()
    case("binary: get with a cas in the request", bin_req(SET, k, b"v", set_ex())
         + bin_req(GET, k, cas=12345), binary=True)
    k = nk()
    case("binary: set flags and exptime round trip",
         bin_req(SET, k, b"v", set_ex(0xDEADBEEF, 100)) + bin_req(GETK, k),
         binary=True)
    k = nk()
    case("binary: set with negative exptime",
         bin_req(SET, k, b"v", set_ex(0, 0xFFFFFFFF)) + bin_req(GET, k),
         binary=True)
    k = nk()
    case("binary: text after binary on one connection",
         bin_req(NOOP) + b"get foo\r\n", binary=True, sentinel=False,
         idle=0.3)
    case("binary: stat items (shape)", bin_req(STAT, b"items"), binary=True,
         norm=norm_bin_stat)
    case("binary: stat with a control byte", bin_req(STAT, b"a\x01"),
         binary=True)
    case("binary: many quiet gets then noop",
         b"".join(bin_req(GETQ, b"mq%03d" % i, opaque=i) for i in range(50)),
         binary=True)


# ------------------------------------------------------------ -I boundary

def add_limits(case, nk):
    """Values at memcached's exact -I limit (item_size.h): 1 MiB minus its
    48-byte header, the key and a NUL, the flags when not 0, the \r\n and
    the CAS (not with -C)."""
    def limit(k, flags=0, cas=True):
        return (1 << 20) - 48 - (len(k) + 1) - (4 if flags else 0) - 2 - \
            (8 if cas else 0)
    for flags in (0, 1):
        for pair, cas in (("main", True), ("nocas", False)):
            for extra in (0, 1):
                k = nk()
                n = limit(k, flags, cas) + extra
                tag = "%s flags %d %s" % ("-C" if not cas else "cas", flags,
                                          "limit" if not extra else "limit+1")
                case("limit: set at the -I limit (%s)" % tag,
                     b"set %s %d 0 %d\r\n" % (k, flags, n) + b"v" * n +
                     b"\r\nmg %s s\r\n" % k, pair=pair, idle=5)
                k = nk()
                case("limit: ms at the -I limit (%s)" % tag,
                     b"ms %s %d F%d\r\n" % (k, n, flags) + b"v" * n +
                     b"\r\nmg %s s\r\n" % k, pair=pair, idle=5)
                k = nk()
                case("limit: binary set at the -I limit (%s)" % tag,
                     bin_req(SET, k, b"v" * n, set_ex(flags)) +
                     bin_req(GETK, k + b"x"), binary=True, pair=pair, idle=5)
    for extra in (0, 1):  # -I 2k
        k = nk()
        n = limit(k) - (1 << 20) + 2048 + extra
        case("limit: set at a 2k -I limit (%s)" % ("limit+1" if extra else "limit"),
             b"set %s 0 0 %d\r\n" % (k, n) + b"v" * n + b"\r\nmg %s s\r\n" % k,
             pair="small")
    for extra in (0, 1):
        k = nk()
        n = limit(k) - 1000000 + extra
        tag = "limit" if not extra else "limit+1"
        case("limit: append to the -I limit (%s)" % tag,
             b"set %s 0 0 1000000\r\n" % k + b"a" * 1000000 +
             b"\r\nappend %s 0 0 %d\r\n" % (k, n) + b"b" * n +
             b"\r\nprepend %s 0 0 %d\r\n" % (k, n) + b"b" * n +
             b"\r\nms %s %d MA\r\n" % (k, n) + b"c" * n +
             b"\r\nmg %s s\r\n" % k, idle=5)
        k = nk()
        case("limit: binary append to the -I limit (%s)" % tag,
             bin_req(SET, k, b"a" * 1000000, set_ex()) +
             bin_req(APPEND, k, b"b" * n) + bin_req(PREPEND, k, b"b" * n) +
             bin_req(APPENDQ, k, b"b" * n, opaque=5),
             binary=True, idle=5)


# ------------------------------------------------------------ meta flag sweep

def add_meta_sweep(case, nk):
    """Every letter as a flag of each meta command, bare and with a
    numeric token, on an existing item (E is excluded: a flag of later
    memcached releases)."""
    letters = [chr(c) for c in range(ord("A"), ord("Z") + 1)] + \
              [chr(c) for c in range(ord("a"), ord("z") + 1)]
    for cmd in ("mg", "ms", "md", "ma"):
        reqs = []
        for ch in letters:
            if ch == "E":
                continue
            for tok in ("", "5"):
                k = nk()
                pre = b"ms %s 1 T100\r\n7\r\n" % k
                flag = (ch + tok).encode()
                if cmd == "ms":
                    req = b"ms %s 1 %s\r\n8\r\n" % (k, flag)
                else:
                    req = b"%s %s %s\r\n" % (cmd.encode(), k, flag)
                reqs.append((flag, pre + req + b"mg %s v f t\r\n" % k))
        for flag, req in reqs:
            case("meta sweep: %s flag %s" % (cmd, flag.decode()), req)


# ------------------------------------------------------------ text sweep

def add_text_sweep(case, nk):
    """Each text command with argument lists of every shape, followed by a
    line that a storage command would take as its data."""
    cmds = ("get", "gets", "gat", "gats", "set", "add", "replace", "append",
            "prepend", "cas", "incr", "decr", "delete", "touch", "verbosity",
            "version", "stats", "cache_memlimit", "slabs", "lru_crawler",
            "lru", "mn", "me", "mg", "ms", "md", "ma", "misbehave")
    # (flush_all is not swept: a flush, even a delayed one, would meet
    # the other cases; add_flush covers it)
    shapes = ("", " K", " K K", " K 1", " K 1 noreply", " K 1 1", " K 1 1 1",
              " K 1 1 1 1", " K 1 1 1 noreply", " K 1 1 1 1 noreply",
              " K 1 1 1 1 1 1", " K a b c d e", " noreply", " K -1",
              " K 1 1 -1", " 1 K", " K  1", " K\t1", " K 1 1 1 1 noreplyx")
    for cmd in cmds:
        for shape in shapes:
            k = nk()
            line = (cmd + shape).encode().replace(b"K", k)
            case("text sweep: %r" % (cmd + shape), line + b"\r\nxyz\r\n",
                 norm=norm_stats_first if cmd == "stats" else None)


# ------------------------------------------------------------ binary sweep

PAST_KEY_OPS = (0x10, 0x1C, 0x1D, 0x1E, 0x23, 0x24)
PAST_KEY = ("Stat, Touch, GAT and GATK have no value: shmcached discards "
            "body bytes past the key, memcached reads them as the next "
            "request (here a bad magic byte: it closes, and the unread "
            "bytes make the kernel reset the connection)")


def norm_bin_sweep(reply, cm):
    out = norm_bin_stat(reply, cm)
    for p in out:
        if isinstance(p, dict) and p["op"] == VERSION and p["status"] == 0:
            p["value"] = b"<v>"
    return out


def add_binary_sweep(case, nk):
    """Each opcode memcached 1.6.18 implements, with every combination of
    extras (0, 4, 8, 20 bytes), key (none, one) and value (none, one) --
    consistent lengths, so right or wrong for the command -- on an
    existing numeric item."""
    # (Flush is not swept: it would meet the other cases; add_flush)
    ops = [o for o in range(0x00, 0x1F) if o not in (0x08, 0x18, 0x1B)] + [0x23, 0x24]
    for op in ops:
        for ext in (0, 4, 8, 20):
            for key in (b"", b"K"):
                for val in (b"", b"1"):
                    k = nk()
                    kk = key.replace(b"K", k)
                    pre = bin_req(SET, k, b"5", set_ex(1, 100))
                    req = bin_req(op, kk, val, extras=bytes(range(1, ext + 1)),
                                  opaque=0x77)
                    name = ("binary sweep: op 0x%02x ext %d key %d value %d"
                            % (op, ext, len(key), len(val)))
                    if val and op in PAST_KEY_OPS and \
                            (op == STAT or (ext == 4 and key)):
                        EXCLUDED[name] = PAST_KEY
                    case(name, pre + req + bin_req(GETK, k), binary=True,
                         norm=norm_bin_sweep)


# ------------------------------------------------------------ -Y

def add_auth(case, nk):
    def c(name, steps, idle=0.3):
        case("-Y: " + name, steps, pair="auth", sentinel=False, idle=idle)
    c("unauthenticated get", b"get foo\r\n")
    c("unauthenticated pipeline", b"get foo\r\nversion\r\n")
    c("bad password", [b"set a 0 0 7\r\nuser xx\r\n", b"get foo\r\n"])
    c("bad password pipelined", b"set a 0 0 7\r\nuser xx\r\nget foo\r\n")
    c("unauthenticated, one request per read",
      [b"get foo\r\n", b"version\r\n"])
    c("one token", b"set a 0 0 4\r\nuser\r\n")
    c("bad data termination", b"set a 0 0 4\r\nuserXX")
    c("good password, then commands",
      [b"set a 0 0 11\r\nuser secret\r\n", b"set k 0 0 1\r\nx\r\nget k\r\n"])
    c("line too long", b"x" * 3000, idle=1)
    c("unauthenticated meta", b"mg foo v\r\n")
    c("unauthenticated HTTP request", b"GET / HTTP/1.1\r\n")


# ------------------------------------------------------------ -S

SASL_LIST_MECHS, SASL_AUTH, SASL_STEP = 0x20, 0x21, 0x22


def add_sasl(case, nk):
    """-S: the binary protocol only; before SASL, nothing but SASL and
    Version.  No case authenticates (parity.sasl_setup says why)."""
    def c(name, steps, **kw):
        case("-S: " + name, steps, pair="sasl", **kw)
    k = nk()
    # text is read as binary: a bad magic byte closes, after a whole header
    c("text set and get are not served",
      b"set %s 0 0 1\r\nx\r\nget %s\r\n" % (k, k), sentinel=False, idle=1)
    c("meta ms, mg and mn are not served",
      b"ms %s 1\r\nx\r\nmg %s v\r\nmn\r\n" % (k, k), sentinel=False, idle=1)
    c("a text line shorter than a header waits", b"version\r\n",
      sentinel=False, idle=0.5)
    c("binary get before auth", bin_req(GET, k), binary=True)
    c("binary set before auth", bin_req(SET, k, b"v", set_ex()), binary=True)
    c("binary flush before auth", bin_req(FLUSH), binary=True)
    c("list mechs and version before auth",
      bin_req(SASL_LIST_MECHS, opaque=1) + bin_req(VERSION, opaque=2),
      binary=True, norm=norm_bin_version)
    c("a wrong password",
      bin_req(SASL_AUTH, b"PLAIN", b"\0user\0wrong"), binary=True)
    c("an unknown user",
      bin_req(SASL_AUTH, b"PLAIN", b"\0nobody\0secret"), binary=True)
    c("a mechanism not offered",
      bin_req(SASL_AUTH, b"ANONYMOUS", b"x"), binary=True)


# ------------------------------------------------------------ -C

def add_nocas(case, nk):
    def c(name, steps, **kw):
        case("-C: " + name, steps, pair="nocas", **kw)
    k = nk()
    c("cas on existing and missing keys",
      b"set %s 0 0 1\r\n1\r\ncas %s 0 0 1 0\r\n2\r\ncas %s 0 0 1 5\r\n2\r\n"
      b"cas %sx 0 0 1 0\r\n2\r\nget %s\r\n" % (k, k, k, k, k))
    for mode in (b"S", b"A", b"P", b"R", b"E"):
        for cas in (b"0", b"7"):
            k = nk()
            c("ms M%s C%s" % (mode.decode(), cas.decode()),
              b"set %s 0 0 1\r\n1\r\nms %s 1 M%s C%s\r\n3\r\n"
              b"ms %sx 1 M%s C%s\r\n3\r\nmg %s v c\r\n"
              % (k, k, mode, cas, k, mode, cas, k))
    for cas in (b"0", b"7"):
        k = nk()
        c("ma C%s" % cas.decode(),
          b"set %s 0 0 1\r\n1\r\nma %s C%s v c\r\nma %sx C%s\r\n"
          % (k, k, cas, k, cas))
        k = nk()
        c("md C%s" % cas.decode(),
          b"set %s 0 0 1\r\n1\r\nmd %s C%s\r\nmd %sx C%s\r\nmg %s v\r\n"
          % (k, k, cas, k, cas, k))
        k = nk()
        c("md I C%s" % cas.decode(),
          b"set %s 0 0 1\r\n1\r\nmd %s I C%s\r\nmg %s v c\r\n"
          % (k, k, cas, k))
    k = nk()
    c("mg c shows 0", b"set %s 0 0 1\r\n1\r\nmg %s c v\r\n" % (k, k))
    k = nk()
    c("binary stores ignore cas",
      bin_req(SET, k, b"5", set_ex()) + bin_req(SET, k, b"6", set_ex(), cas=5) +
      bin_req(REPLACE, k, b"7", set_ex(), cas=5) +
      bin_req(APPEND, k, b"8", cas=3) + bin_req(PREPEND, k, b"9", cas=3) +
      bin_req(ADD, k, b"9", set_ex(), cas=3) + bin_req(GET, k) +
      bin_req(SET, k + b"x", b"6", set_ex(), cas=5) +
      bin_req(REPLACE, k + b"y", b"6", set_ex(), cas=5), binary=True)
    k = nk()
    c("binary incr/decr/delete compare cas",
      bin_req(SET, k, b"5", set_ex()) +
      bin_req(INCR, k, extras=arith_ex(1), cas=3) +
      bin_req(INCR, k, extras=arith_ex(1), cas=0) +
      bin_req(DECR, k, extras=arith_ex(1), cas=3) +
      bin_req(INCR, k + b"x", extras=arith_ex(1, 0, 0xFFFFFFFF), cas=3) +
      bin_req(DELETE, k, cas=3) + bin_req(GET, k) +
      bin_req(DELETE, k + b"x", cas=3) +
      bin_req(DELETE, k, cas=0) + bin_req(GET, k), binary=True)


# ------------------------------------------------------------ isolation

def recv_all(sock, idle):
    """Bytes until the peer closes (marked) or idle seconds of silence."""
    buf = b""
    sock.settimeout(idle)
    try:
        while True:
            d = sock.recv(1 << 16)
            if not d:
                return buf + CLOSED
            buf += d
    except socket.timeout:
        return buf
    except ConnectionResetError:
        return buf + CLOSED


def recv_until_mn(sock, timeout=3.0):
    """Bytes up to the "MN\r\n" that answers a trailing mn (or a close)."""
    buf = b""
    sock.settimeout(timeout)
    try:
        while not buf.endswith(b"MN\r\n"):
            d = sock.recv(1 << 16)
            if not d:
                return buf + CLOSED
            buf += d
    except socket.timeout:
        pass
    return buf


def connect(port):
    return socket.create_connection(("127.0.0.1", port), 5)


def isolation_text(port, k):
    """A request in flight on one connection while others send bad input
    (a line too long, a bad data chunk, a huge length); then it completes."""
    a = connect(port)
    a.sendall(b"set %s 0 0 10\r\nabc" % k)
    out = []
    for bad in (b"x" * 3000, b"set %s 0 0 3\r\nabcdef\r\n" % k,
                b"set %s 0 0 2147483000\r\nzz" % k, b"\x80\x01garbage\r\n",
                b"get " + b"y" * 300 + b"\r\n"):
        b = connect(port)
        b.sendall(bad)
        out.append(recv_all(b, 0.3))
        b.close()
    a.sendall(b"defghij\r\nget %s\r\n" % k)
    out.append(recv_all(a, 0.3))
    a.close()
    return out


def isolation_binary(port, k):
    """As isolation_text, in the binary protocol (bad magic, bad lengths)."""
    full = bin_req(SET, k, b"0123456789", set_ex(3)) + bin_req(GETK, k)
    a = connect(port)
    a.sendall(full[:30])
    out = []
    for bad in (bin_req(GET, b"k", magic=0x81), bin_req(GET, b"k" * 251),
                bin_req(SET, k, b"", set_ex(), bodylen=0x7FFFFFFF)):
        b = connect(port)
        b.sendall(bad)
        out.append(recv_all(b, 0.3))
        b.close()
    a.sendall(full[30:])
    out.append(recv_all(a, 0.3))
    a.close()
    return out


def conn_limit(port):
    """Open connections without sending until one is answered unasked:
    its reply (memcached: "ERROR Too many open connections", close) and
    that the connections before it still work.  The count where it
    happens is not compared (docs/server.md: memcached counts its own
    descriptors too)."""
    conns, refused = [], None
    try:
        for _ in range(80):
            s = connect(port)
            conns.append(s)
            r = recv_all(s, 0.05)
            if r:
                refused = r
                break
        first = conns[0]
        first.sendall(b"mn\r\n")
        return [refused, recv_all(first, 0.3), len(conns) > 1]
    finally:
        for s in conns:
            s.close()


def norm_out_of_memory(r, cm):
    """One of out_of_memory's results: a binary reply with its CAS values
    normalised; the others (text without CAS, a length) as they are."""
    return norm_bin(r, cm) if isinstance(r, bytes) and r[:1] == b"\x81" else r


def out_of_memory(port):
    """-M with little memory: store 50 KB values until the first refusal;
    its text (not when it comes: the engines account memory differently),
    then a binary store of the same size, a read of the first item, and
    a miss (the server still answers).  The 2 MB store is too large."""
    s = connect(port)
    f = s.makefile("rb")
    first = None
    try:
        for i in range(1000):
            s.sendall(b"set oom%d 0 0 50000\r\n" % i + b"x" * 50000 + b"\r\n")
            line = f.readline()
            if line != b"STORED\r\n":
                first = line
                break
        out = [first]
        b = connect(port)
        b.sendall(bin_req(SET, b"oombin", b"y" * 50000, set_ex(), opaque=9))
        out.append(recv_all(b, 0.3))
        b.close()
        s.sendall(b"get oom0\r\nincr oomnope 1\r\nmn\r\n")
        out.append(len(recv_until_mn(s)))
        # a set that cannot be stored drops the old value (memcached:
        # "stale data persisting ... unacceptable for SET"); add keeps it.
        # Appends add one byte, so that the joined item needs the full
        # class: memcached first takes an item of the appended data's
        # size, which a 50 KB append would not find in the full class even
        # where the joined item's larger class has room (shmcached reads
        # the data into the connection's buffer and stores it there)
        for key, req, n in ((b"oom1", b"set oom1 0 0 50000\r\n", 50000),
                            (b"oom1", b"add oom1 0 0 50000\r\n", 50000),
                            (b"oom1", b"replace oom1 0 0 50000\r\n", 50000),
                            (b"oom2", b"append oom2 0 0 1\r\n", 1),
                            (b"oom3", b"ms oom3 1 MA\r\n", 1),
                            (b"oom4", b"ms oom4 50000 MR\r\n", 50000)):
            s.sendall(req + b"z" * n + b"\r\nget %s\r\nmn\r\n" % key)
            r = recv_until_mn(s)
            out.append(r if len(r) < 200 else r[:60] + b"...")
        b = connect(port)
        b.sendall(bin_req(APPEND, b"oom2", b"q", opaque=4) +
                  bin_req(SET, b"oom5", b"y" * 50000, set_ex()) +
                  bin_req(GET, b"oom5", opaque=3))
        out.append(recv_all(b, 0.3))
        b.close()
        return out
    finally:
        s.close()


def fill_large(s, f, prefix):
    """Fill the tiny pair's cache with ten 900 KB values; the replies."""
    v = b"x" * 900000
    out = []
    for i in range(10):
        s.sendall(b"set %s%d 0 0 900000\r\n" % (prefix, i) + v + b"\r\n")
        out.append(f.readline())
    return out


def large_then_small(port):
    """A cache full of 900 KB values: a 1900-byte item stored next is
    not evicted by a 4-byte store right after it (each size needs a page
    of its own: a class that has none gets one, as memcached's -m
    gives it past the limit), in text and in binary (SETQ, SETQ, GET)."""
    s = connect(port)
    f = s.makefile("rb")
    try:
        out = fill_large(s, f, b"big")
        s.sendall(b"set lk 0 0 1900\r\n" + b"y" * 1900 + b"\r\n"
                  b"set alt_lk 0 0 4\r\nabcd\r\nget lk\r\nmn\r\n")
        r = recv_until_mn(s)
        out.append(r[:40] + b"..." + r[-20:])
        fill_large(s, f, b"big2")
        b = connect(port)
        b.sendall(bin_req(SETQ, b"lk1", b"z" * 1900, set_ex()) +
                  bin_req(SETQ, b"lk2", b"w" * 4, set_ex()) +
                  bin_req(GET, b"lk1", opaque=7))
        r = recv_all(b, 0.3)
        out.append((len(r), r[-1900:] == b"z" * 1900))
        b.close()
        return out
    finally:
        s.close()


def append_grows(port):
    """The same full cache: a value appended to 200 times moves through
    many sizes, each a page of its own; every append is stored (memcached
    refuses none), also after flush_all."""
    s = connect(port)
    f = s.makefile("rb")
    try:
        out = fill_large(s, f, b"abig")
        for round_ in range(2):
            s.sendall(b"set ap 0 0 1\r\na\r\n")
            out.append(f.readline())
            replies = {}
            for i in range(200):
                s.sendall(b"append ap 0 0 100\r\n" + b"z" * 100 + b"\r\n")
                line = f.readline()
                replies[line] = replies.get(line, 0) + 1
            out.append(sorted(replies.items()))
            s.sendall(b"get ap\r\n")
            head = f.readline()
            out.append(head)
            if head.startswith(b"VALUE"):
                f.read(int(head.split()[3]) + 2)
                out.append(f.readline())
            s.sendall(b"flush_all\r\n")
            out.append(f.readline())
        return out
    finally:
        s.close()


def stats_of(s, f, what=b""):
    """The STAT lines of "stats <what>" as a dict."""
    s.sendall(b"stats %s\r\n" % what if what else b"stats\r\n")
    out = {}
    while True:
        line = f.readline()
        if line in (b"END\r\n", b""):
            return out
        parts = line.split()
        out[parts[1]] = parts[2]


def expired_reuse(port):
    """Expired items are reclaimed in the background (memcached's LRU
    maintainer, shmcached's crawler thread): their memory is reused by
    the next stores, which take no new page, and reclaimed counts them;
    then a requested crawl answers OK and its run ends."""
    s = connect(port)
    f = s.makefile("rb")
    try:
        for i in range(100):
            s.sendall(b"set exr%d 0 1 100\r\n" % i + b"x" * 100 + b"\r\n")
            f.readline()
        s.sendall(b"set exrlive 0 0 100\r\n" + b"x" * 100 + b"\r\n")
        f.readline()
        before = stats_of(s, f, b"slabs")[b"total_malloced"]
        time.sleep(3)
        out = [stats_of(s, f)[b"reclaimed"]]
        for i in range(100):
            s.sendall(b"set exr_new%d 0 0 100\r\n" % i + b"x" * 100 + b"\r\n")
            f.readline()
        out.append(stats_of(s, f, b"slabs")[b"total_malloced"] == before)
        s.sendall(b"lru_crawler crawl all\r\n")
        out.append(f.readline())
        for _ in range(50):
            if stats_of(s, f)[b"lru_crawler_running"] == b"0":
                break
            time.sleep(0.1)
        st = stats_of(s, f)
        out.append((st[b"lru_crawler_running"], st[b"curr_items"]))
        return out
    finally:
        s.close()


def class_of(s, f, key):
    """The slab class id of key, from "stats items" after it alone grew."""
    return int(next(k.split(b":")[1] for k, v in stats_of(s, f, b"items").items()
                    if k.endswith(b":number")))


def slabs_reassign(port):
    """slabs reassign: memcached's answers in its order (SAME, BADCLASS,
    NOSPARE), and pages that really move: from a class of four pages to
    the pool (dst 0) and to another class, then NOSPARE at its last
    page; the items of the moved pages are gone, the rest readable."""
    s = connect(port)
    f = s.makefile("rb")
    try:
        for i in range(3000):
            s.sendall(b"set ra%d 0 0 1000\r\n" % i + b"x" * 1000 + b"\r\n")
            f.readline()
        src = class_of(s, f, b"ra0")
        out = []
        for req in (b"%d %d" % (src, src), b"-1 -1", b"0 1", b"%d 64" % src,
                    b"-2 3", b"3 %d" % src, b"%d 0" % src, b"%d 3" % src,
                    b"%d 0" % src, b"%d 0" % src):
            for _ in range(100):  # memcached moves pages in a thread: BUSY meanwhile
                s.sendall(b"slabs reassign " + req + b"\r\n")
                line = f.readline()
                if not line.startswith(b"BUSY"):
                    break
                time.sleep(0.05)
            out.append((req, line))
        st = stats_of(s, f, b"slabs")
        out.append(st[b"%d:total_pages" % src])
        s.sendall(b"get ra2999\r\n")
        out.append(f.readline())
        return out
    finally:
        s.close()


def temp_lru(port):
    """-o temporary_ttl=30: items with a TTL up to 30 s go to the TEMP LRU
    (stats items: number_temp), the others to HOT/COLD; stats settings
    shows temp_lru and temporary_ttl."""
    s = connect(port)
    f = s.makefile("rb")
    try:
        for i in range(20):
            ttl = (10, 30, 31, 0)[i % 4]
            s.sendall(b"set tl%d 0 %d 5\r\nvalue\r\n" % (i, ttl))
            f.readline()
        items = stats_of(s, f, b"items")
        settings = stats_of(s, f, b"settings")
        return [sorted((k.split(b":")[2], v) for k, v in items.items()
                       if k.split(b":")[2] in (b"number", b"number_temp")),
                settings[b"temp_lru"], settings[b"temporary_ttl"]]
    finally:
        s.close()


def add_pairs(case, nk):
    case("-M: out of memory, text and binary", [], custom=out_of_memory,
         pair="nomem", norm=norm_out_of_memory)
    case("-m 3: large values do not starve a small item", [],
         custom=large_then_small, pair="tiny", norm=norm_out_of_memory)
    case("-m 3: append through every size, before and after flush_all", [],
         custom=append_grows, pair="tiny", norm=lambda r, cm: r)
    case("slabs reassign: answers, and pages that move", [],
         custom=slabs_reassign, pair="reassign", norm=lambda r, cm: r)
    case("-W -X: watch, metadump and cachedump refused",
         b"watch fetchers\r\nlru_crawler metadump all\r\nstats cachedump 1 1\r\n",
         pair="nodump")
    case("-o temporary_ttl: short TTLs go to the TEMP LRU", [],
         custom=temp_lru, pair="temp", norm=lambda r, cm: r)
    case("expired items are reclaimed in the background; lru_crawler crawl",
         [], custom=expired_reuse, pair="expiry", norm=lambda r, cm: r)
    k = nk()
    case("isolation: text request in flight while others send bad input",
         [], custom=lambda port, k=k: isolation_text(port, k))
    k = nk()
    case("isolation: binary request in flight while others send bad input",
         [], custom=lambda port, k=k: isolation_binary(port, k),
         norm=lambda r, cm: norm_bin(r, cm))
    case("-c: over the limit, ERROR Too many open connections and close",
         [], custom=conn_limit, pair="conns", norm=lambda r, cm: r)


# ------------------------------------------------------------ flush_all

def add_flush(case, nk):
    case("text: flush_all bad argument", b"flush_all abc\r\n")
    case("text: flush_all negative", b"flush_all -1\r\n")
    case("text: flush_all too many", b"flush_all 1 noreply x\r\n")
    k = nk()
    case("text: flush_all noreply",
         b"set %s 0 0 1\r\nx\r\nflush_all noreply\r\nget %s\r\n" % (k, k))
    k = nk()
    case("text: flush_all then store",
         b"set %s 0 0 1\r\nx\r\nflush_all\r\nget %s\r\n"
         b"set %s 0 0 1\r\ny\r\nget %s\r\n" % (k, k, k, k))
    k = nk()
    case("text: flush_all 0", b"set %s 0 0 1\r\nx\r\nflush_all 0\r\nget %s\r\n"
         % (k, k))
    k = nk()
    case("text: flush_all 2^32 is flush_all 0",
         b"set %s 0 0 1\r\nx\r\nflush_all 4294967296\r\nget %s\r\n"
         % (k, k))
    k = nk()
    case("text: flush_all with an absolute time before the server started",
         b"set %s 0 0 1\r\nx\r\nflush_all 16909060\r\nget %s\r\n" % (k, k))
    k = nk()
    case("text: flush_all with a delay keeps items until it passes",
         b"set %s 0 0 1\r\nx\r\nflush_all 3\r\nget %s\r\n" % (k, k))
    k = nk()
    case("-C: flush_all then store",
         b"set %s 0 0 1\r\nx\r\nflush_all\r\nget %s\r\n"
         b"set %s 0 0 1\r\ny\r\nget %s\r\n" % (k, k, k, k), pair="nocas")
    k = nk()
    case("binary: " + "flush", bin_req(SET, k, b"v", set_ex()) + bin_req(FLUSH) +
          bin_req(GET, k), binary=True)
    k = nk()
    case("binary: " + "flushq", bin_req(SET, k, b"v", set_ex()) + bin_req(FLUSHQ) +
          bin_req(GET, k), binary=True)
    k = nk()
    case("binary: " + "flush with delay extras",
          bin_req(SET, k, b"v", set_ex()) +
          bin_req(FLUSH, extras=struct.pack(">I", 5)) + bin_req(GET, k), binary=True)
    case("binary: " + "flush bad extras", bin_req(FLUSH, extras=b"\0\0"), binary=True,
          sentinel=False, idle=0.3)
