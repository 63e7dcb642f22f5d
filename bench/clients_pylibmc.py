"""clients_pylibmc.py - the pylibmc row of bench/clients.sh: gets through
pylibmc (Debian python3-pylibmc, over libmemcached) to one server, run by
/usr/bin/python3 plainly or under LD_PRELOAD of libshmcached-memcached.so;
the script is the same either way.

    /usr/bin/python3 bench/clients_pylibmc.py ADDR KEYS SECONDS LATENCY_GETS

ADDR is host:port or a UNIX socket's path.  Stores KEYS keys of 100 bytes,
reads each back once (a wrong value: exit status 1), then:
  throughput  gets round the keys for SECONDS, untimed one by one;
  latency     LATENCY_GETS gets, each timed with time.perf_counter_ns();
              the p50 less the median cost of an empty timer pair (timer_ns).
Prints one line, as bench/clients_php.php does:
  ops_per_s N p50_ns N timer_ns N gets N misses N
Exit status: 0; 1 a store failed, a value read back wrong or a get of the
throughput loop missed; 2 bad usage.
"""
import sys
import time

import pylibmc


def load(mc, n, value):
    """The keys, stored and read back; exits 1 on a failure."""
    keys = ["py-bench-%d" % i for i in range(n)]
    try:
        for k in keys:
            if not mc.set(k, value):
                sys.exit("clients_pylibmc: set %s failed" % k)
        for k in keys:
            if mc.get(k) != value:
                sys.exit("clients_pylibmc: get %s: not the value stored" % k)
    except pylibmc.Error as e:
        sys.exit("clients_pylibmc: %s: %s" % (k, e))
    return keys


def throughput(mc, keys, secs):
    """(gets per second, gets, misses) of SECS of back-to-back gets."""
    get = mc.get
    n = misses = 0
    nkeys = len(keys)
    t0 = time.perf_counter_ns()
    end = t0 + int(secs * 1e9)
    while True:
        for _ in range(1000):
            if get(keys[n % nkeys]) is None:
                misses += 1
            n += 1
        t = time.perf_counter_ns()
        if t >= end:
            break
    return n / ((t - t0) / 1e9), n, misses


def median(v):
    v = sorted(v)
    return v[len(v) // 2]


def latency(mc, keys, gets):
    """(p50 of a timed get less the timer's cost, the timer's cost), ns."""
    clock = time.perf_counter_ns
    empty = []
    for _ in range(10000):
        a = clock()
        empty.append(clock() - a)
    timer = median(empty)
    get = mc.get
    nkeys = len(keys)
    lat = []
    for i in range(gets):
        k = keys[i % nkeys]
        a = clock()
        get(k)
        lat.append(clock() - a)
    return max(0, median(lat) - timer), timer


def main():
    nkeys, secs, gets = 0, 0.0, 0
    try:
        addr, nkeys, secs, gets = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    except (IndexError, ValueError):
        pass
    if len(sys.argv) != 5 or nkeys < 1 or secs <= 0 or gets < 1:
        print("usage: clients_pylibmc.py ADDR KEYS SECONDS LATENCY_GETS", file=sys.stderr)
        return 2
    mc = pylibmc.Client([addr])
    keys = load(mc, nkeys, b"v" * 100)
    ops, n, misses = throughput(mc, keys, secs)
    p50, timer = latency(mc, keys, gets)
    print("ops_per_s %d p50_ns %d timer_ns %d gets %d misses %d" % (ops, p50, timer, n, misses))
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
