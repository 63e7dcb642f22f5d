"""clients_pylibmc.py - the pylibmc row of bench/clients.sh: gets through
pylibmc (Debian python3-pylibmc, over libmemcached) to one server, run by
/usr/bin/python3 plainly or under LD_PRELOAD of libshmcached-memcached.so;
the script is the same either way.

    /usr/bin/python3 bench/clients_pylibmc.py ADDR KEYS SECONDS LATENCY_GETS [BATCH]

ADDR is host:port or a UNIX socket's path.  Stores KEYS keys of 100 bytes,
reads each back once (a wrong value: exit status 1), then:
  throughput  gets round the keys for SECONDS, untimed one by one;
  latency     LATENCY_GETS gets, each timed with time.perf_counter_ns();
              the p50 less the median cost of an empty timer pair (timer_ns).
With BATCH > 1 every get is a get_multi of BATCH keys (memcached_mget and
fetches in libmemcached): ops_per_s counts keys, the p50 is of one call.
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


def batches(keys, batch):
    """The keys in lists of batch, round the keys."""
    return [[keys[(i + j) % len(keys)] for j in range(batch)]
            for i in range(0, len(keys), batch)]


def throughput(mc, keys, secs, batch):
    """(keys read per second, keys, misses) of SECS of back-to-back gets."""
    get = mc.get
    n = misses = 0
    nkeys = len(keys)
    groups = batches(keys, batch)
    t0 = time.perf_counter_ns()
    end = t0 + int(secs * 1e9)
    while True:
        for _ in range(1000):
            if batch > 1:
                got = mc.get_multi(groups[n // batch % len(groups)])
                misses += batch - len(got)
                n += batch
                continue
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


def latency(mc, keys, gets, batch):
    """(p50 of a timed get (get_multi of batch keys) less the timer's
    cost, the timer's cost), ns."""
    clock = time.perf_counter_ns
    empty = []
    for _ in range(10000):
        a = clock()
        empty.append(clock() - a)
    timer = median(empty)
    get = mc.get_multi if batch > 1 else mc.get
    todo = batches(keys, batch) if batch > 1 else keys
    lat = []
    for i in range(gets):
        k = todo[i % len(todo)]
        a = clock()
        get(k)
        lat.append(clock() - a)
    return max(0, median(lat) - timer), timer


def main():
    nkeys, secs, gets, batch = 0, 0.0, 0, 1
    try:
        addr, nkeys, secs, gets = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
        batch = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    except (IndexError, ValueError):
        pass
    if len(sys.argv) not in (5, 6) or nkeys < 1 or secs <= 0 or gets < 1 or batch < 1:
        print("usage: clients_pylibmc.py ADDR KEYS SECONDS LATENCY_GETS [BATCH]", file=sys.stderr)
        return 2
    mc = pylibmc.Client([addr])
    keys = load(mc, nkeys, b"v" * 100)
    ops, n, misses = throughput(mc, keys, secs, batch)
    p50, timer = latency(mc, keys, gets, batch)
    print("ops_per_s %d p50_ns %d timer_ns %d gets %d misses %d" % (ops, p50, timer, n, misses))
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
