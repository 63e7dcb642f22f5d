"""bench/multiget.py - the client of bench/multiget.sh: multi-key text gets
over a UNIX socket, plain sockets (no client library, so that the client's
own cost stays small and alike for every server).

    multiget.py SOCKET load KEYS            store key:0..KEYS-1, 100 B each
    multiget.py SOCKET run KEYS BATCH SECS  gets of BATCH random keys for
                                            SECS s, two lines in flight;
                                            prints "keys N secs S"

Exit status 1 if a value comes back wrong or a get misses.
"""
import random
import socket
import sys
import time


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
    rnd = random.Random(1)
    lines = []
    for _ in range(256):
        ids = [rnd.randrange(nkeys) for _ in range(batch)]
        lines.append((b"get " + b" ".join(b"key:%d" % i for i in ids) + b"\r\n", ids))
    got, n, start = 0, 0, time.perf_counter()
    while time.perf_counter() - start < secs:
        pair = (lines[n % 256], lines[(n + 1) % 256])
        n += 2
        s.sendall(pair[0][0] + pair[1][0])
        for _, ids in pair:
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
