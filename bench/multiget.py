"""bench/multiget.py - the client of bench/multiget.sh: multi-key gets over
a UNIX socket, plain sockets (no client library, so that the client's own
cost stays small and alike for every server).

    multiget.py SOCKET load KEYS            store key:0..KEYS-1, 100 B each
    multiget.py SOCKET run KEYS BATCH SECS [binary]
                                            gets of BATCH random keys for
                                            SECS s, two in flight: a text
                                            "get k1 k2 ...", or with binary
                                            BATCH GetKQ and a Noop, as
                                            libmemcached's mget sends them;
                                            prints "keys N secs S"

Exit status 1 if a value comes back wrong or a get misses.
"""
import random
import socket
import struct
import sys
import time

GETKQ, NOOP = 0x0d, 0x0a


def bin_request(op, key=b""):
    return struct.pack(">BBHBBHIIQ", 0x80, op, len(key), 0, 0, 0, len(key), 0, 0) + key


def bin_round(f, ids):
    """Read the replies to one binary mget: a hit per key, then the Noop's."""
    for i in ids:
        head = f.read(24)
        if len(head) != 24 or head[1] != GETKQ:
            return False
        keylen, extlen, body = struct.unpack(">H", head[2:4])[0], head[4], struct.unpack(">I", head[8:12])[0]
        data = f.read(body)
        if data[extlen:extlen + keylen] != b"key:%d" % i or data[extlen + keylen:] != value(i):
            return False
    head = f.read(24)
    return len(head) == 24 and head[1] == NOOP


def value(i):
    return (b"%010d" % i) * 10  # 100 bytes naming their key


def main():
    path, mode, nkeys = sys.argv[1], sys.argv[2], int(sys.argv[3])
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    f = s.makefile("rb")
    if mode == "load":
        for at in range(0, nkeys, 1000):
            s.sendall(b"".join(b"set key:%d 0 0 100 noreply\r\n%s\r\n" % (i, value(i))
                               for i in range(at, min(nkeys, at + 1000))))
        s.sendall(b"get key:0\r\n")
        while f.readline() != b"END\r\n":
            pass
        return 0
    batch, secs = int(sys.argv[4]), float(sys.argv[5])
    binary = len(sys.argv) > 6 and sys.argv[6] == "binary"
    rnd = random.Random(1)
    lines = []
    for _ in range(256):
        ids = [rnd.randrange(nkeys) for _ in range(batch)]
        if binary:
            req = b"".join(bin_request(GETKQ, b"key:%d" % i) for i in ids) + bin_request(NOOP)
        else:
            req = b"get " + b" ".join(b"key:%d" % i for i in ids) + b"\r\n"
        lines.append((req, ids))
    got, n, start = 0, 0, time.perf_counter()
    while time.perf_counter() - start < secs:
        pair = (lines[n % 256], lines[(n + 1) % 256])
        n += 2
        s.sendall(pair[0][0] + pair[1][0])
        for _, ids in pair:
            if binary:
                if not bin_round(f, ids):
                    print("multiget.py: wrong or missing binary reply", file=sys.stderr)
                    return 1
                got += len(ids)
                continue
            for i in ids:
                head = f.readline().split()
                if len(head) != 4 or head[1] != b"key:%d" % i or f.read(102) != value(i) + b"\r\n":
                    print("multiget.py: wrong or missing value for key:%d" % i, file=sys.stderr)
                    return 1
                got += 1
            if f.readline() != b"END\r\n":
                print("multiget.py: no END", file=sys.stderr)
                return 1
    print("keys %d secs %.3f" % (got, time.perf_counter() - start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
