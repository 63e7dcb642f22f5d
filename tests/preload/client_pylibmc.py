"""client_pylibmc.py - pylibmc through every call the preload serves.

tests/test_preload.sh runs it with /usr/bin/python3 with and without the
preload against the same server and compares the outputs.

    client_pylibmc.py PORT text|binary      the calls, one line each
    client_pylibmc.py PORT loop N           N gets of one key (served locally?)
    client_pylibmc.py PORT fork             a fork child's calls
    client_pylibmc.py PORT kill             a get, "ready", then (after a
                                            line on stdin and 1.2 s) calls on
                                            a server killed meanwhile
    client_pylibmc.py PORT,PORT2 cluster    keys over two servers (ketama)

Exceptions are printed by type and message, with addresses (0x...) cut.
"""
import os
import re
import sys
import time

import pylibmc


def r(what, fn, *args):
    try:
        v = fn(*args)
    except Exception as e:  # the error is what is compared
        v = "EXC %s: %s" % (type(e).__name__, re.sub(r"0x[0-9a-f]+", "ADDR", str(e)))
    if isinstance(v, dict):
        v = sorted(v.items())
    print("%s: %r" % (what, v), flush=True)
    return v


def client(ports, binary, **behaviors):
    return pylibmc.Client(["127.0.0.1:%s" % p for p in ports], binary=binary,
                          behaviors=behaviors)


def calls(mc, binary):
    r("flush", mc.flush_all)
    r("get missing", mc.get, "missing")
    r("set a", mc.set, "a", b"alpha")
    r("get a", mc.get, "a")
    r("set int", mc.set, "i", 42)
    r("get int", mc.get, "i")
    r("set str", mc.set, "s", "text")
    r("get str", mc.get, "s")
    r("set pickled", mc.set, "p", {"x": [1, 2]})
    r("get pickled", mc.get, "p")
    r("add a", mc.add, "a", b"x")
    r("add b", mc.add, "b", b"beta")
    r("replace c", mc.replace, "c", b"x")
    r("replace b", mc.replace, "b", b"BETA")
    r("append a", mc.append, "a", b"+end")
    r("prepend a", mc.prepend, "a", b"start+")
    r("append missing", mc.append, "zz", b"x")
    r("get a", mc.get, "a")
    r("gets a", lambda: mc.gets("a")[0])
    cas = mc.gets("a")[1]
    r("gets cas is a number", lambda: isinstance(cas, int) and cas > 0)
    r("cas a", mc.cas, "a", b"casd", cas)
    r("cas a stale", mc.cas, "a", b"nope", cas)
    r("cas missing", mc.cas, "nothere", b"nope", cas)
    r("gets missing", mc.gets, "nothere")
    r("gets after cas: changed", lambda: mc.gets("a")[1] != cas)
    r("get a", mc.get, "a")
    r("delete b", mc.delete, "b")
    r("delete b again", mc.delete, "b")
    r("set n", mc.set, "n", 10)
    r("incr n", mc.incr, "n", 5)
    r("decr n", mc.decr, "n", 20)
    r("incr missing", mc.incr, "nx", 1)
    r("incr non-numeric", mc.incr, "a", 1)
    r("get n", mc.get, "n")
    r("touch a", mc.touch, "a", 100)
    r("touch missing", mc.touch, "tx", 100)
    r("set_multi", mc.set_multi, {"m1": b"one", "m2": 2, "m3": "three"})
    r("get_multi", mc.get_multi, ["m1", "m2", "m3", "nothere", "a"])
    r("set_multi prefixed", mc.set_multi, {"1": b"one", "2": b"two"}, 0, "pre:")
    r("get_multi prefixed", mc.get_multi, ["1", "2", "3"], "pre:")
    r("get pre:1", mc.get, "pre:1")
    r("delete_multi", mc.delete_multi, ["m1", "m2", "nothere"])
    r("get_multi after delete", mc.get_multi, ["m1", "m2", "m3"])
    r("get long key", mc.get, "k" * 300)
    r("set with expiry", mc.set, "e", b"exp", 1000)
    r("get with expiry", mc.get, "e")
    r("set expired (absolute past)", mc.set, "old", b"x", 2592001)
    r("get expired", mc.get, "old")
    r("flush", mc.flush_all)
    r("get a after flush", mc.get, "a")


def loop(mc, n):
    mc.set("loopkey", b"v" * 100)
    hits = sum(1 for _ in range(n) if mc.get("loopkey") is not None)
    print("hits %d" % hits)


def fork(mc):
    r("set f", mc.set, "f", b"parent")
    r("get f", mc.get, "f")
    pid = os.fork()
    if pid == 0:
        r("child set fc", mc.set, "fc", b"child")
        r("child get fc", mc.get, "fc")
        r("child get f", mc.get, "f")
        r("child incr", mc.incr, "fn", 1)
        os._exit(0)
    os.waitpid(pid, 0)
    r("parent get fc", mc.get, "fc")


def kill(mc):
    r("set a", mc.set, "a", b"alpha")
    r("get a", mc.get, "a")
    # a call by socket, so that plain and preloaded runs both hold a
    # connection when the server dies (libmemcached's errors differ
    # between a connection lost and one refused)
    r("stats", lambda: len(mc.get_stats()))
    print("ready", flush=True)
    sys.stdin.readline()
    time.sleep(1.2)  # the preload checks the server's pid at most once a second
    r("get a after kill", mc.get, "a")
    r("set a after kill", mc.set, "a", b"x")
    r("get_multi after kill", mc.get_multi, ["a", "b"])


def cluster(ports):
    mc = client(ports, False, ketama=True)
    keys = ["key%d" % i for i in range(40)]
    r("flush", mc.flush_all)
    r("set_multi", mc.set_multi, {k: k.encode() for k in keys})
    r("get_multi", mc.get_multi, keys + ["nothere"])
    for k in keys[:10]:
        r("set " + k, mc.set, k, b"again " + k.encode())
        r("get " + k, mc.get, k)
    # where each key is: each server alone, by socket or by preload alike
    for p in ports:
        one = client([p], False)
        print("on %s: %s" % (p, sorted(one.get_multi(keys))), flush=True)


def main():
    ports, mode = sys.argv[1].split(","), sys.argv[2]
    if mode == "cluster":
        return cluster(ports)
    mc = client(ports, mode == "binary", cas=True)
    if mode == "loop":
        return loop(mc, int(sys.argv[3]))
    if mode == "fork":
        return fork(mc)
    if mode == "kill":
        return kill(mc)
    calls(mc, mode == "binary")


main()
