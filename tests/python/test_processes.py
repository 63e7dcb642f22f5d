"""test_processes.py - several processes on one segment: two
multiprocessing workers reading each other's writes, and fork (gunicorn's
preload mode): the child's Client opens its own handle by itself (or
raises with reopen_after_fork=False), the parent goes on, and a child
never keeps its dead parent alive."""
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import shmcached
from shmcached import ShmcachedError


def _writer_reader(path, me, other, n, barrier, out):
    c = shmcached.Client(path)
    for i in range(n):
        c.set("%s-%d" % (me, i), ("%s says %d" % (me, i)).encode())
    barrier.wait(30)
    got = c.get_many(["%s-%d" % (other, i) for i in range(n)])
    out.put((me, len(got), all(v == ("%s says %s" % (other, k.split("-")[1])).encode()
                                for k, v in got.items())))


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_two_processes_read_each_others_writes(seg, method):
    ctx = multiprocessing.get_context(method)
    barrier, out = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_writer_reader, args=(seg, a, b, 500, barrier, out))
             for a, b in (("p1", "p2"), ("p2", "p1"))]
    for p in procs:
        p.start()
    results = sorted(out.get(timeout=60) for _ in procs)
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    assert results == [("p1", 500, True), ("p2", 500, True)]


def _child(fn):
    """Fork; run fn() in the child, whose exit status is 0 if it returned
    True, 1 if False, 2 if it raised.  Returns (status, the parent's pid)."""
    pid = os.fork()
    if pid == 0:
        try:
            code = 0 if fn() else 1
        except BaseException as e:  # noqa: B902 - report anything
            sys.stderr.write("child: %r\n" % e)
            code = 2
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_fork_child_reopens_and_parent_goes_on(client):
    client.set("before", b"parent")
    parent_handle_clients = client.shmc_stats()["curr_clients"]

    def child():
        ok = client.get("before") == b"parent"  # a new handle, opened by itself
        client.set("from-child", str(os.getpid()).encode())
        # its own client slot: one more live client than the parent saw
        return ok and client.shmc_stats()["curr_clients"] == parent_handle_clients + 1

    assert _child(child) == 0
    assert client.get("from-child") is not None  # the parent reads the child's write
    client.set("after", b"parent")
    assert client.get("after") == b"parent"
    assert client.shmc_stats()["curr_clients"] == parent_handle_clients  # the child left


def test_fork_child_without_reopen_raises(seg):
    c = shmcached.Client(seg, reopen_after_fork=False)
    c.set("k", b"v")

    def child():
        try:
            c.get("k")
        except ShmcachedError as e:
            return e.status_name == "SHMC_INVALID" and "fork" in str(e)
        return False

    assert _child(child) == 0
    assert c.get("k") == b"v"  # the parent's handle is untouched


def test_fork_low_level_cache_reopens(seg):
    h = shmcached.Cache(seg)
    h.store(shmcached._shmcached.SET, b"k", b"v")

    def child():
        return h.get(b"k")[0] == b"v" and not h.closed

    assert _child(child) == 0
    assert _child(lambda: h.close() is None and h.closed) == 0  # close in the child: fine
    assert h.get(b"k")[0] == b"v"


PARENT = textwrap.dedent("""
    import os, signal, sys, time
    import shmcached
    c = shmcached.Client(sys.argv[1])
    c.set("parent", str(os.getpid()).encode())
    pid = os.fork()
    if pid == 0:                       # the child: uses the inherited Client
        c.set("child", str(os.getpid()).encode())
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)                # let the test read the parent's output to its end
        os.dup2(null, 2)
        time.sleep(30)
        os._exit(0)
    while c.get("child") is None:
        time.sleep(0.01)
    print(pid, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)   # the parent dies attached
""")


def test_child_does_not_keep_dead_parent_alive(seg):
    observer = shmcached.Client(seg)
    p = subprocess.run([sys.executable, "-c", PARENT, seg], capture_output=True, text=True,
                       timeout=60, env=os.environ)
    assert p.returncode == -signal.SIGKILL, p.stderr
    child = int(p.stdout.split()[0])
    try:
        os.kill(child, 0)  # the child is alive, attached by its own handle
        deadline = time.time() + 10
        while True:
            s = observer.shmc_stats()
            # the observer and the child are alive; the parent is dead, not kept alive
            if s["curr_clients"] == 2 and s["dead_clients"] + s["clients_recovered"] >= 1:
                break
            assert time.time() < deadline, {k: s[k] for k in ("curr_clients", "dead_clients",
                                                             "clients_recovered")}
            time.sleep(0.05)
    finally:
        os.kill(child, signal.SIGKILL)
