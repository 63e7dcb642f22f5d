"""test_cache.py - the low-level API, shmcached.Cache (the extension's
handle): what the library adds to pymemcache's Client (CAS tokens as ints,
store modes and statuses, get_info, shmc_stats, the protection mode), its
argument checks, and the GIL threshold."""
import threading

import pytest

import shmcached
from shmcached import MemcacheIllegalInputError, ShmcachedError
from shmcached import _shmcached as C


@pytest.fixture
def cache(seg):
    with shmcached.Cache(seg) as h:
        yield h


def test_store_modes_and_statuses(cache):
    st, cas1 = cache.store(C.ADD, b"k", b"v1", 5, 0)
    assert st == C.SHMC_OK and cas1 > 0
    assert cache.store(C.ADD, b"k", b"x")[0] == C.SHMC_NOT_STORED
    assert cache.store(C.REPLACE, b"nope", b"x")[0] == C.SHMC_NOT_STORED
    assert cache.get(b"k") == (b"v1", 5, cas1)
    assert cache.store(C.CAS, b"k", b"v2", 0, 0, cas1 + 1)[0] == C.SHMC_EXISTS
    assert cache.store(C.CAS, b"nope", b"v2", 0, 0, 1)[0] == C.SHMC_NOT_FOUND
    st, cas2 = cache.store(C.CAS, b"k", b"v2", 0, 0, cas1)
    assert st == C.SHMC_OK and cas2 != cas1
    assert cache.store(C.APPEND, b"k", b"+")[0] == C.SHMC_OK
    assert cache.get(b"k")[0] == b"v2+"
    assert cache.store(C.SET, b"b", bytearray(b"buf"))[0] == C.SHMC_OK  # any buffer
    assert cache.store(C.SET, b"m", memoryview(b"xmemx")[1:4])[0] == C.SHMC_OK
    assert cache.get(b"m")[0] == b"mem"


def test_store_bad_arguments(cache):
    with pytest.raises(MemcacheIllegalInputError):
        cache.store(99, b"k", b"v")
    with pytest.raises(MemcacheIllegalInputError):
        cache.store(C.SET, b"k", b"v", 1 << 32)
    for bad in (-1, 1 << 32, 2**64 + 5, "1", 1.0):  # never wrapped nor truncated
        with pytest.raises(MemcacheIllegalInputError, match="flags"):
            cache.store(C.SET, b"k", b"v", bad)
    for bad in (-1, 2**64, 2**64 + 5, "1"):
        with pytest.raises(MemcacheIllegalInputError, match="cas"):
            cache.store(C.CAS, b"k", b"v", 0, 0, bad)
        with pytest.raises(MemcacheIllegalInputError, match="cas"):
            cache.delete(b"k", bad)
    with pytest.raises(MemcacheIllegalInputError, match="mode"):
        cache.store(mode=-1, key=b"k", value=b"v")
    assert cache.get(b"k") is None  # nothing was stored by any of them
    with pytest.raises(TypeError):
        cache.store(C.SET, "k", b"v")
    with pytest.raises(TypeError):
        cache.store(C.SET, b"k", "v")
    with pytest.raises(ShmcachedError) as e:
        cache.store(C.SET, b"k" * 251, b"v")
    assert e.value.status_name == "SHMC_BAD_KEY"


def test_delete_with_cas(cache):
    _, cas = cache.store(C.SET, b"k", b"v")
    assert cache.delete(b"k", cas + 1) == C.SHMC_EXISTS
    assert cache.delete(b"k", cas) == C.SHMC_OK
    assert cache.delete(b"k") == C.SHMC_NOT_FOUND


def test_get_info_options(cache):
    assert cache.get_info(b"none") is None
    cache.store(C.SET, b"k", b"value", 3, 100)
    info = cache.get_info(b"k", no_bump=True)
    assert (info["len"], info["flags"], info["fetched"]) == (5, 3, False)
    assert cache.get_info(b"k", no_bump=True)["fetched"] is False  # no_bump: no fetch mark
    cache.get(b"k")
    assert cache.get_info(b"k")["fetched"] is True
    assert cache.get_info(b"k", touch=1000)["ttl"] > 100
    assert cache.get_info(b"k", recache_below=10**6)["win"] == 1  # the first wins the token
    assert cache.get_info(b"k", recache_below=10**6)["win"] == -1
    with pytest.raises(TypeError):
        cache.get_info("k")


def test_get_multi(cache):
    cache.store(C.SET, b"a", b"1", 1)
    cache.store(C.SET, b"big", b"z" * 10000)
    got = cache.get_multi([b"a", b"zz", b"big"])
    assert set(got) == {b"a", b"big"}
    assert got[b"a"][:2] == (b"1", 1)
    assert got[b"big"][0] == b"z" * 10000
    assert cache.get_multi([]) == {}
    with pytest.raises(TypeError):
        cache.get_multi([b"a", "b"])
    with pytest.raises(TypeError):
        cache.get_multi(5)


def test_arith_touch_flush(cache):
    cache.store(C.SET, b"n", b"41")
    assert cache.arith(b"n", True, 1) == 42
    assert cache.arith(b"n", False, 50) == 0
    assert cache.arith(b"x", True, 1) is None
    with pytest.raises(MemcacheIllegalInputError):
        cache.arith(b"n", True, -1)
    assert cache.touch(b"n", 10) is True and cache.touch(b"x", 10) is False
    cache.flush_all()
    assert cache.get(b"n") is None


def test_shmc_stats_and_protection(cache):
    cache.store(C.SET, b"k", b"v")
    s = cache.shmc_stats()
    assert s["curr_items"] == 1 and s["curr_clients"] >= 1
    assert {"protection", "pkru_writers", "locks_repaired", "hash_buckets"} <= set(s)
    assert cache.protection in ("mpk", "none")
    expected = 1 if cache.protection == "mpk" else 2  # SHMC_PROTECT_MPK, _NONE
    assert s["protection"] == expected


def test_status_names_and_strerror():
    assert C.status_name(C.SHMC_TOO_LARGE) == "SHMC_TOO_LARGE"
    assert C.status_name(1000) == "SHMC_?"
    assert "large" in C.strerror(C.SHMC_TOO_LARGE)


def test_gil_threshold_setting():
    old = shmcached.gil_threshold()
    assert shmcached.gil_threshold(4096) == old
    assert shmcached.gil_threshold() == 4096
    shmcached.gil_threshold(old)
    with pytest.raises(MemcacheIllegalInputError):
        shmcached.gil_threshold(-2)


def _during_large_copies(cache, threshold, action, op="get"):
    """Run action() in a thread, again and again, while this thread gets (or
    stores) a 900 KB value 300 times with the given GIL threshold; the list
    of what action returned while a call was running without the GIL."""
    big = b"q" * 900000
    cache.store(C.SET, b"big", big)
    old = shmcached.gil_threshold(threshold)
    stop, seen = threading.Event(), []

    def spin():
        while not stop.is_set():
            if cache._inflight:
                seen.append(action())
    t = threading.Thread(target=spin)
    t.start()
    try:
        for _ in range(300):
            if op == "get":
                assert cache.get(b"big")[0] == big
            else:
                assert cache.store(C.SET, b"big", big)[0] == C.SHMC_OK
    finally:
        stop.set()
        t.join()
        shmcached.gil_threshold(old)
    return seen


@pytest.mark.parametrize("op", ["get", "store"])
def test_gil_released_for_large_copies(cache, op):
    """Above the threshold another thread runs Python code during the copy
    (it sees the call in flight); below it, never."""
    assert _during_large_copies(cache, 0, lambda: True, op)
    assert not _during_large_copies(cache, 1 << 30, lambda: True, op)


def test_close_refused_during_a_call_without_the_gil(seg):
    """close() from another thread while a copy runs without the GIL is
    refused.  The other thread may also close between two copies (it saw
    the call in flight a bytecode earlier): that close succeeds, and the
    Cache (reopen_closed) opens again on the next call."""
    cache = shmcached.Cache(seg, reopen_closed=True)

    def close():
        try:
            cache.close()
            return "closed"
        except RuntimeError as e:
            assert "another thread" in str(e)
            return "refused"
    seen = _during_large_copies(cache, 0, close)
    assert "refused" in seen, seen[:5]
    cache.close()


def test_get_with_key_rules(cache):
    cache.store(C.SET, b"p:k", b"v")
    assert cache.get("k", False, b"p:")[0] == b"v"
    with pytest.raises(MemcacheIllegalInputError):
        cache.get("a b", False, b"")
    with pytest.raises(TypeError):
        cache.get(b"k", False)
    with pytest.raises(TypeError):
        cache.get("k")  # without the rules, a key must be bytes


def test_check_key_arguments():
    assert C.check_key("k", False, b"p:") == b"p:k"
    with pytest.raises(TypeError):
        C.check_key("k", False)
    with pytest.raises(TypeError):
        C.check_key("k", False, "p:")


def test_create_destroy_errors(seg, tmp_path):
    with pytest.raises(ShmcachedError) as e:
        shmcached.create(str(tmp_path / "nodir" / "x"))
    assert e.value.status_name == "SHMC_NO_FILE"
    with pytest.raises(ShmcachedError) as e:
        shmcached.create(str(tmp_path / "tiny"), mem_bytes=1024)
    assert e.value.status_name == "SHMC_INVALID"
    with pytest.raises(ShmcachedError) as e:
        shmcached.destroy(str(tmp_path / "none"))
    assert e.value.status_name == "SHMC_NO_FILE"


def test_environment_errors(seg, monkeypatch):
    monkeypatch.setenv("SHMC_PROTECTION", "bogus")
    with pytest.raises(ShmcachedError) as e:
        shmcached.Cache(seg)
    assert e.value.status_name == "SHMC_INVALID"
