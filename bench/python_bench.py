#!/usr/bin/python3
"""python_bench.py - gets and sets per second from Python: the shmcached
module (shmcached.Client, and its low-level Cache) against pymemcache and
pylibmc over a UNIX socket to memcached and to build/shmcached, from 1 and
2 processes; where a library get's time goes (interpreter, extension,
library); and where releasing the GIL around a copy pays off.

    bench/python.sh [--runs N] [--seconds S] [--keys N] [--quick]

(bench/python.sh sets PYTHONPATH to build/python and runs this with
Debian's /usr/bin/python3.)  Every figure is the median of --runs runs;
ratios are against the other clients in the same run.  Values are 100
bytes, every key of --keys is loaded first and every get is a hit (checked
on each process's first pass).  pymemcache waits for every set's answer
(noreply=False), as pylibmc does.
"""
import argparse
import multiprocessing
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import shmcached
from shmcached import _shmcached as C

VALUE = b"v" * 100


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def wait_socket(path, proc):
    for _ in range(400):
        if proc.poll() is not None:
            sys.exit("bench: %s exited" % proc.args[0])
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            s.close()
            return
        except OSError:
            time.sleep(0.025)
    sys.exit("bench: nothing listens on %s" % path)


class Servers:
    """memcached and build/shmcached on UNIX sockets in a scratch directory."""

    def __init__(self, build, tmp):
        root = ["-u", "root"] if os.getuid() == 0 else []
        self.mc_sock = os.path.join(tmp, "memcached.sock")
        self.sh_sock = os.path.join(tmp, "shmcached.sock")
        self.sh_seg = "/dev/shm/pybench-server-%d" % os.getpid()
        self.procs = [
            subprocess.Popen([shutil.which("memcached") or "/usr/bin/memcached", "-s", self.mc_sock,
                              "-m", "256", "-t", "2"] + root),
            subprocess.Popen([os.path.join(build, "shmcached"), "-s", self.sh_sock, "-e",
                              self.sh_seg, "-m", "256", "-t", "2"] + root),
        ]
        wait_socket(self.mc_sock, self.procs[0])
        wait_socket(self.sh_sock, self.procs[1])

    def stop(self):
        for p in self.procs:
            p.terminate()
            p.wait(10)
        if os.path.exists(self.sh_seg):
            os.unlink(self.sh_seg)


# ---------------------------------------------------------------- clients

def make_client(kind, where):
    """(get(key), set(key, value)) for one client kind."""
    if kind == "lib":
        c = shmcached.Client(where)
        return c.get, c.set
    if kind == "raw":
        h = shmcached.Cache(where)
        return (lambda k: h.get(k.encode())[0]), (lambda k, v: h.store(C.SET, k.encode(), v))
    if kind == "pymemcache":
        from pymemcache.client.base import Client
        c = Client(where, default_noreply=False)
        return c.get, (lambda k, v: c.set(k, v, noreply=False))
    if kind == "pylibmc":
        import pylibmc
        c = pylibmc.Client([where])
        return c.get, c.set
    raise ValueError(kind)


def worker(kind, where, op, keys, seconds, barrier, out):
    get, set_ = make_client(kind, where)
    rnd = random.Random(os.getpid())
    order = keys[:]
    rnd.shuffle(order)
    for k in order[:1000]:  # check: every get is a hit
        if get(k) != VALUE:
            out.put(("miss", kind, k))
            return
    barrier.wait(60)
    n, t0 = 0, time.perf_counter()
    deadline = t0 + seconds
    while True:
        if op == "get":
            for k in order[n % len(order):n % len(order) + 1000]:
                get(k)
        else:
            for k in order[n % len(order):n % len(order) + 1000]:
                set_(k, VALUE)
        n += 1000
        if time.perf_counter() >= deadline:
            break
    out.put(("ok", n / (time.perf_counter() - t0)))


def measure(kind, where, op, procs, keys, seconds):
    ctx = multiprocessing.get_context("fork")
    barrier, out = ctx.Barrier(procs), ctx.Queue()
    ps = [ctx.Process(target=worker, args=(kind, where, op, keys, seconds, barrier, out))
          for _ in range(procs)]
    for p in ps:
        p.start()
    results = [out.get(timeout=120) for _ in ps]
    for p in ps:
        p.join(30)
    for r in results:
        if r[0] != "ok":
            sys.exit("bench: %s on %s: a get missed (%s)" % (kind, where, r[2]))
    return sum(r[1] for r in results)


def load(kind, where, keys):
    get, set_ = make_client(kind, where)
    for k in keys:
        set_(k, VALUE)


# ---------------------------------------------------------------- where a get's time goes

def split_get(seg, keys, rounds=7):
    """ns per get: the library alone (a C loop), Cache.get from Python,
    Client.get, and the bare Python loop around a C call; the least of
    the rounds of each (the least disturbed by the machine's other load)."""
    h = shmcached.Cache(seg)
    c = shmcached.Client(seg)
    sample = keys[:20000]
    bkeys = tuple(k.encode() for k in sample)
    res = {"library": [], "Cache.get": [], "Client.get": [], "loop": []}
    for _ in range(rounds):
        res["library"].append(h._bench_get(bkeys, 5))
        for name, fn, ks in (("Cache.get", h.get, bkeys), ("Client.get", c.get, sample),
                             ("loop", len, bkeys)):
            t0 = time.perf_counter()
            for k in ks:
                fn(k)
            res[name].append((time.perf_counter() - t0) * 1e9 / len(ks))
    return {k: min(v) for k, v in res.items()}


# ---------------------------------------------------------------- the GIL threshold

def gil_costs(seg, sizes, rounds=5):
    """For each size: ns per get holding the GIL and releasing it (one
    thread), and gets/s of two threads, holding and releasing."""
    h = shmcached.Cache(seg)
    rows = []
    for size in sizes:
        key = b"gil-%d" % size
        h.store(C.SET, key, b"g" * size)
        n = max(200, min(20000, 20000000 // size))
        row = {"size": size}
        for mode, thr in (("held", 1 << 40), ("released", 0)):
            old = shmcached.gil_threshold(thr)
            one, two = [], []
            for _ in range(rounds):
                t0 = time.perf_counter()
                for _ in range(n):
                    h.get(key)
                one.append((time.perf_counter() - t0) * 1e9 / n)

                def loop():
                    for _ in range(n):
                        h.get(key)
                ts = [threading.Thread(target=loop) for _ in range(2)]
                t0 = time.perf_counter()
                for t in ts:
                    t.start()
                for t in ts:
                    t.join()
                two.append(2 * n / (time.perf_counter() - t0))
            shmcached.gil_threshold(old)
            row[mode + "_ns"] = statistics.median(one)
            row[mode + "_2t"] = statistics.median(two)
        rows.append(row)
    return rows


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.environ.get("BUILD", "build"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--keys", type=int, default=100000)
    ap.add_argument("--quick", action="store_true", help="1 run of 0.3 s, 10,000 keys")
    a = ap.parse_args()
    if a.quick:
        a.runs, a.seconds, a.keys = 1, 0.3, 10000
    try:
        import pymemcache  # noqa: F401
        import pylibmc  # noqa: F401
    except ImportError as e:
        sys.exit("bench: %s (scripts/install-deps.sh --bench)" % e)

    keys = ["key:%d" % i for i in range(a.keys)]
    tmp = tempfile.mkdtemp(prefix="pybench-")
    seg = "/dev/shm/pybench-lib-%d" % os.getpid()
    servers = Servers(a.build, tmp)
    try:
        with shmcached.create(seg, mem_bytes=256 << 20) as h:
            prot = h.protection
        backends = [
            ("shmcached.Client (library)", "lib", seg),
            ("shmcached.Cache (low level)", "raw", seg),
            ("pymemcache -> memcached", "pymemcache", servers.mc_sock),
            ("pymemcache -> build/shmcached", "pymemcache", servers.sh_sock),
            ("pylibmc -> memcached", "pylibmc", servers.mc_sock),
            ("pylibmc -> build/shmcached", "pylibmc", servers.sh_sock),
        ]
        for _, kind, where in backends[::2] + backends[3:4] + backends[5:6]:
            load(kind, where, keys)
        print("# Python clients: %s, protection %s, python %s, %d keys of 100 B, "
              "median of %d runs of %.1f s, load average %.2f"
              % (cpu_model(), prot, sys.version.split()[0], a.keys, a.runs, a.seconds,
                 os.getloadavg()[0]))
        results = {}
        for run in range(a.runs):
            for name, kind, where in backends:
                for op in ("get", "set"):
                    for procs in (1, 2):
                        results.setdefault((name, op, procs), []).append(
                            measure(kind, where, op, procs, keys, a.seconds))
        med = {k: statistics.median(v) for k, v in results.items()}
        print()
        print("| client | get/s 1 proc | get/s 2 procs | set/s 1 proc | set/s 2 procs |")
        print("|---|---|---|---|---|")
        for name, _, _ in backends:
            print("| %s | %s |" % (name, " | ".join("%.0fk" % (med[(name, op, p)] / 1e3)
                                                    for op in ("get", "set") for p in (1, 2))))
        print()
        lib = "shmcached.Client (library)"
        print("| shmcached.Client against | get 1 proc | get 2 procs | set 1 proc | set 2 procs |")
        print("|---|---|---|---|---|")
        for name, _, _ in backends[2:]:
            print("| %s | %s |" % (name, " | ".join(
                "%.1fx" % (med[(lib, op, p)] / med[(name, op, p)])
                for op in ("get", "set") for p in (1, 2))))

        s = split_get(seg, keys)
        print()
        print("Where a get of 100 B goes (ns per get, 1 process, 20,000 keys, least of 7 rounds):")
        print()
        print("| shmc_get in a C loop (the library) | Cache.get from Python | Client.get | "
              "a Python loop calling len() | Client.get less the library |")
        print("|---|---|---|---|---|")
        print("| %.0f | %.0f | %.0f | %.0f | %.0f (%.0f%%) |" % (
            s["library"], s["Cache.get"], s["Client.get"], s["loop"],
            s["Client.get"] - s["library"], 100 * (1 - s["library"] / s["Client.get"])))

        rows = gil_costs(seg, [2048, 8192, 32768, 65536, 131072, 262144, 524288])
        print()
        print("The GIL around a get's copy (ns per get, 1 thread; gets/s of 2 threads):")
        print()
        print("| value | held | released | release costs | 2 threads held | "
              "2 threads released |")
        print("|---|---|---|---|---|---|")
        for r in rows:
            print("| %d KiB | %.0f | %.0f | %+.0f | %.0fk | %.0fk |" % (
                r["size"] // 1024, r["held_ns"], r["released_ns"],
                r["released_ns"] - r["held_ns"], r["held_2t"] / 1e3, r["released_2t"] / 1e3))
        print("\nthreshold now: %d bytes" % shmcached.gil_threshold())
    finally:
        servers.stop()
        try:
            shmcached.destroy(seg)
        except shmcached.ShmcachedError:
            pass
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
