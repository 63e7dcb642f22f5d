"""test_client.py - shmcached.Client, method by method, as pymemcache's
Client answers (pymemcache/client/base.py): return values, noreply,
default=, key rules, serde, and every error path."""
import pickle

import pytest

import shmcached
from shmcached import (
    MemcacheClientError,
    MemcacheIllegalInputError,
    MemcacheServerError,
    MemcacheUnknownCommandError,
    ShmcachedError,
)

try:
    from pymemcache import serde as pm_serde
    import pymemcache.exceptions as pm_exc
except ImportError:  # the package works without pymemcache; these tests need it
    pm_serde = pm_exc = None


# ---------------------------------------------------------------- get, set


def test_set_get_roundtrip_bytes_and_str(client):
    assert client.set(b"k1", b"v1") is True
    assert client.set("k2", "v2") is True  # str values are encoded (ascii)
    assert client.get(b"k1") == b"v1"
    assert client.get("k2") == b"v2"
    assert client.get(b"k2") == b"v2"  # str and bytes name the same key


def test_get_miss_and_default(client):
    assert client.get("missing") is None
    assert client.get("missing", default=b"d") == b"d"
    client.set("k", b"")
    assert client.get("k", default=b"d") == b""  # an empty value is a hit


def test_non_bytes_values_stored_as_their_str(client):
    client.set("i", 42)
    assert client.get("i") == b"42"


def test_large_values_both_sides_of_the_threshold(client):
    old = shmcached.gil_threshold(1024)
    try:
        for n in (2047, 2048, 2049, 4096, 100000, 900000):
            v = bytes(range(256)) * (n // 256) + b"x" * (n % 256)
            client.set("big", v)
            assert client.get("big") == v
            assert client.get_many(["big"]) == {"big": v}
    finally:
        shmcached.gil_threshold(old)


def test_flags_and_expire_reach_the_item(client):
    client.set("k", b"v", expire=100, flags=7)
    info = client.get_info("k")
    assert info["flags"] == 7
    assert 0 < info["ttl"] <= 100
    assert client.cache.get(b"k")[1] == 7


def test_expire_must_be_int(client):
    with pytest.raises(MemcacheIllegalInputError):
        client.set("k", b"v", expire="10")
    with pytest.raises(MemcacheIllegalInputError):
        client.touch("k", expire=1.5)
    with pytest.raises(MemcacheIllegalInputError):
        client.flush_all(delay="x")


def test_flags_out_of_range(client):
    for bad in (-1, 1 << 32, 2**64 + 7):
        with pytest.raises(MemcacheIllegalInputError):
            client.set("k", b"v", flags=bad)
    assert client.get("k") is None


def test_unencodable_str_value(client):
    with pytest.raises(MemcacheIllegalInputError):
        client.set("k", "\u00e9t\u00e9")


def test_too_large_raises_server_error_even_with_noreply(client):
    with pytest.raises(MemcacheServerError) as e:
        client.set("k", b"x" * (2 << 20), noreply=True)
    assert isinstance(e.value, ShmcachedError)
    assert e.value.status == shmcached._shmcached.SHMC_TOO_LARGE
    assert e.value.status_name == "SHMC_TOO_LARGE"
    assert "SHMC_TOO_LARGE" in str(e.value)


# ---------------------------------------------------------------- many


def test_get_many_returns_hits_only_under_caller_keys(client):
    client.set("a", b"1")
    client.set(b"b", b"2")
    assert client.get_many([]) == {}
    assert client.get_many(["a", b"b", "c"]) == {"a": b"1", b"b": b"2"}
    assert client.get_multi(["a"]) == {"a": b"1"}


def test_set_many_and_failures(client):
    assert client.set_many({"a": b"1", "b": b"2"}) == []
    assert client.get_many(["a", "b"]) == {"a": b"1", "b": b"2"}
    assert client.set_multi({"c": b"3"}, noreply=False) == []
    with pytest.raises(MemcacheServerError):
        client.set_many({"d": b"x" * (2 << 20)})


def test_gets_many(client):
    client.set("a", b"1")
    got = client.gets_many(["a", "zz"])
    assert list(got) == ["a"]
    value, cas = got["a"]
    assert value == b"1" and cas.isdigit()
    assert client.gets_many([]) == {}


def test_delete_many(client):
    client.set_many({"a": b"1", "b": b"2"})
    assert client.delete_many(["a", "b", "never"]) is True
    assert client.delete_multi([]) is True
    assert client.get_many(["a", "b"]) == {}


# ---------------------------------------------------------------- conditional stores


def test_add_replace_noreply_semantics(client):
    # pymemcache's default_noreply=True: the answer is always True
    assert client.add("k", b"1") is True
    assert client.add("k", b"2") is True
    assert client.get("k") == b"1"
    assert client.add("k", b"2", noreply=False) is False
    assert client.replace("missing", b"x", noreply=False) is False
    assert client.replace("k", b"3", noreply=False) is True
    assert client.get("k") == b"3"


def test_default_noreply_false(seg):
    c = shmcached.Client(seg, default_noreply=False)
    assert c.add("k", b"1") is True
    assert c.add("k", b"1") is False
    assert c.delete("missing") is False
    assert c.touch("missing") is False
    c.close()


def test_append_prepend(client):
    assert client.append("missing", b"x", noreply=False) is False
    assert client.prepend("missing", b"x", noreply=False) is False
    client.set("k", b"mid", flags=3)
    assert client.append("k", b">", noreply=False) is True
    assert client.prepend("k", b"<", noreply=False) is True
    assert client.get("k") == b"<mid>"
    assert client.get_info("k")["flags"] == 3  # kept, as memcached keeps them


def test_cas_missing_exists_stored(client):
    assert client.cas("k", b"v", 1) is None
    client.set("k", b"v0")
    value, cas = client.gets("k")
    assert client.cas("k", b"v1", int(cas) + 1) is False
    assert client.cas("k", b"v1", cas) is True  # bytes, as gets gives it
    assert client.get("k") == b"v1"
    assert client.cas("k", b"v2", cas) is False  # the CAS moved on
    _, cas2 = client.gets("k")
    assert client.cas("k", b"v2", cas2.decode()) is True  # a str of digits
    assert client.cas("k", b"v3", 0, noreply=True) is True


@pytest.mark.parametrize("bad", [b"12a", "x", 1.5, None, -1, 1 << 64])
def test_cas_bad_token(client, bad):
    with pytest.raises(MemcacheIllegalInputError):
        client.cas("k", b"v", bad)


def test_gets_defaults(client):
    assert client.gets("missing") == (None, None)
    assert client.gets("missing", default=b"d", cas_default=b"0") == (b"d", b"0")


# ---------------------------------------------------------------- delete, touch, arith


def test_delete(client):
    client.set("k", b"v")
    assert client.delete("k", noreply=False) is True
    assert client.delete("k", noreply=False) is False
    assert client.delete("k") is True  # noreply by default
    assert client.get("k") is None


def test_touch(client):
    assert client.touch("missing", noreply=False) is False
    client.set("k", b"v")
    assert client.touch("k", expire=50, noreply=False) is True
    assert 0 < client.get_info("k")["ttl"] <= 50
    assert client.touch("missing") is True  # noreply by default


def test_incr_decr(client):
    assert client.incr("n", 1) is None
    assert client.decr("n", 1) is None
    client.set("n", b"10")
    assert client.incr("n", 5) == 15
    assert client.decr("n", 20) == 0  # stops at 0
    assert client.incr("n", 2, noreply=True) is None
    assert client.get("n") == b"2"
    client.set("n", str(2**64 - 1))
    assert client.incr("n", 1) == 0  # wraps at 2**64


def test_incr_errors(client):
    client.set("s", b"text")
    with pytest.raises(MemcacheClientError) as e:
        client.incr("s", 1)
    assert e.value.status_name == "SHMC_NOT_NUMERIC"
    with pytest.raises(MemcacheIllegalInputError):
        client.incr("s", "1")
    client.set("n", b"1")
    with pytest.raises(MemcacheIllegalInputError):
        client.incr("n", -1)
    with pytest.raises(MemcacheIllegalInputError):
        client.decr("n", 2**64)


# ---------------------------------------------------------------- whole cache


def test_flush_all(client):
    client.set("a", b"1")
    assert client.flush_all() is True
    assert client.get("a") is None
    client.set("b", b"2")
    assert client.flush_all(delay=100, noreply=False) is True
    assert client.get("b") == b"2"  # not yet


def test_stats_as_pymemcache_returns_them(client):
    client.set("a", b"1")
    client.get("a")
    client.get("zz")
    s = client.stats()
    assert s[b"curr_items"] == 1
    assert s[b"get_hits"] == 1 and s[b"get_misses"] == 1
    assert s[b"cmd_set"] == 1
    with pytest.raises(MemcacheUnknownCommandError):
        client.stats("slabs")


def test_unsupported_commands(client):
    with pytest.raises(MemcacheUnknownCommandError):
        client.cache_memlimit(10)
    with pytest.raises(MemcacheUnknownCommandError):
        client.shutdown()
    assert client.version() == shmcached.__version__.encode()


def test_mapping_protocol(client):
    client["k"] = b"v"
    assert client["k"] == b"v"
    del client["k"]
    with pytest.raises(KeyError):
        client["k"]


# ---------------------------------------------------------------- keys


@pytest.mark.parametrize("key,why", [
    ("a b", "whitespace"), (b"a\tb", "whitespace"), ("a\r\nb", "whitespace"), (" a", "whitespace"),
    ("a\x00b", "null"), ("k" * 251, "too long"), ("caf\u00e9", "Non-ASCII"), (b"caf\xc3\xa9", "Non-ASCII"),
    (" ", "whitespace"),
])
def test_bad_keys(client, key, why):
    for call in (lambda: client.get(key), lambda: client.set(key, b"v"), lambda: client.delete(key),
                 lambda: client.get_many([key]), lambda: client.incr(key, 1),
                 lambda: client.touch(key), lambda: client.gets(key)):
        with pytest.raises(MemcacheIllegalInputError, match=why):
            call()


def test_empty_key_refused_by_the_library(client):
    for call in (lambda: client.get(""), lambda: client.set(b"", b"v"), lambda: client.delete(""),
                 lambda: client.incr("", 1), lambda: client.touch(""), lambda: client.get_many([""])):
        with pytest.raises(MemcacheClientError) as e:
            call()
        assert e.value.status_name == "SHMC_BAD_KEY"


def test_key_type(client):
    with pytest.raises(TypeError):
        client.get(5)


def test_key_length_limit_includes_prefix(seg):
    c = shmcached.Client(seg, key_prefix=b"p:")
    c.set("k" * 248, b"v")
    with pytest.raises(MemcacheIllegalInputError, match="too long"):
        c.set("k" * 249, b"v")


def test_unicode_keys(seg):
    c = shmcached.Client(seg, allow_unicode_keys=True)
    assert c.set("caf\u00e9", b"v") is True
    assert c.get("caf\u00e9") == b"v"
    assert c.get("caf\u00e9".encode()) == b"v"  # the same bytes
    assert c.get_many(["caf\u00e9"]) == {"caf\u00e9": b"v"}
    with pytest.raises(MemcacheIllegalInputError):
        c.get("caf\u00e9 x")


def test_key_prefix_namespaces(seg):
    a = shmcached.Client(seg, key_prefix=b"a:")
    b = shmcached.Client(seg, key_prefix="b:")
    plain = shmcached.Client(seg)
    a.set("k", b"1")
    b.set("k", b"2")
    assert (a.get("k"), b.get("k"), plain.get("a:k")) == (b"1", b"2", b"1")
    assert a.get_many(["k"]) == {"k": b"1"}  # the caller's key, unprefixed
    with pytest.raises(TypeError):
        shmcached.Client(seg, key_prefix=5)


# ---------------------------------------------------------------- serde


class JsonishSerde:
    """A serde with flags of its own: 1 for int, 2 for str."""

    def serialize(self, key, value):
        if isinstance(value, int):
            return str(value).encode(), 1
        if isinstance(value, str):
            return value.encode(), 2
        return value, 0

    def deserialize(self, key, value, flags):
        return {0: lambda v: v, 1: int, 2: bytes.decode}[flags](value)


def test_serde_protocol(seg):
    c = shmcached.Client(seg, serde=JsonishSerde())
    c.set("i", 5)
    c.set("s", "text")
    c.set("b", b"raw")
    assert (c.get("i"), c.get("s"), c.get("b")) == (5, "text", b"raw")
    assert c.get_many(["i", "s"]) == {"i": 5, "s": "text"}
    assert c.gets("i")[0] == 5
    assert c.get_info("s")["flags"] == 2
    c.set("forced", 7, flags=0)  # flags= overrides the serde's
    assert c.get("forced") == b"7"


def test_legacy_serializer_functions(seg):
    c = shmcached.Client(seg, serializer=lambda k, v: (repr(v).encode(), 9),
                         deserializer=lambda k, v, f: (v, f))
    c.set("k", [1])
    assert c.get("k") == (b"[1]", 9)


@pytest.mark.skipif(pm_serde is None, reason="pymemcache not installed")
def test_pymemcache_pickle_serde(seg):
    c = shmcached.Client(seg, serde=pm_serde.pickle_serde)
    obj = {"a": [1, 2.5, None], "b": ("t", b"u")}
    c.set("o", obj)
    assert c.get("o") == obj
    raw = c.cache.get(b"o")
    assert raw[1] & pm_serde.FLAG_PICKLE and pickle.loads(raw[0]) == obj


@pytest.mark.skipif(pm_exc is None, reason="pymemcache not installed")
def test_exceptions_are_pymemcaches(client):
    assert shmcached.MemcacheIllegalInputError is pm_exc.MemcacheIllegalInputError
    with pytest.raises(pm_exc.MemcacheClientError):
        client.get("a b")
    with pytest.raises(pm_exc.MemcacheServerError):
        client.set("k", b"x" * (2 << 20))


# ---------------------------------------------------------------- life


def test_close_then_reopen_on_next_call(client):
    client.set("k", b"v")
    client.close()
    assert client.cache.closed
    assert client.get("k") == b"v"  # as pymemcache reconnects
    assert not client.cache.closed


def test_context_managers(seg):
    with shmcached.Client(seg) as c:
        c.set("k", b"v")
    assert c.cache.closed
    with shmcached.Cache(seg) as h:
        assert h.get(b"k")[0] == b"v"
    assert h.closed
    with pytest.raises(ValueError, match="closed"):
        h.get(b"k")


def test_ignore_exc_turns_read_errors_into_misses(seg, monkeypatch):
    c = shmcached.Client(seg, ignore_exc=True)
    c.set("k", b"v")

    class Broken:
        def get(self, *key_and_rules):
            raise shmcached.errors._make_error(shmcached._shmcached.SHMC_BUSY, "SHMC_BUSY", "busy")
        get_multi = get

    c.cache = Broken()
    assert c.get("k", default=b"d") == b"d"
    assert c.get_many(["k"]) == {}
    assert c.gets("k") == (None, None)
    c.ignore_exc = False
    with pytest.raises(MemcacheServerError):
        c.get("k")


def test_open_errors_name_their_status(tmp_path):
    with pytest.raises(ShmcachedError) as e:
        shmcached.Client(str(tmp_path / "nothing"))
    assert e.value.status_name == "SHMC_NO_FILE"
    junk = tmp_path / "junk"
    junk.write_bytes(b"\0" * 65536)
    with pytest.raises(ShmcachedError) as e:
        shmcached.Client(str(junk))
    assert e.value.status_name in ("SHMC_NOT_SEGMENT", "SHMC_CORRUPT")
    with pytest.raises(MemcacheIllegalInputError):
        shmcached.Client(str(junk), protection="maybe")
    with pytest.raises(MemcacheIllegalInputError):
        shmcached.Client(str(junk), lock_wait_ms=-5)


def test_create_refuses_existing(seg):
    with pytest.raises(ShmcachedError) as e:
        shmcached.create(seg)
    assert e.value.status_name == "SHMC_FILE_EXISTS"


def test_threads_reopening_a_closed_client_open_one_handle(client):
    """After close(), threads calling at once open the handle once: no
    second handle is left attached (curr_clients counts this one only)."""
    import threading
    client.set("k", b"v")
    for _ in range(20):
        client.close()
        barrier = threading.Barrier(8)
        got = []

        def call():
            barrier.wait()
            got.append(client.get("k"))
        threads = [threading.Thread(target=call) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert got == [b"v"] * 8
        assert client.shmc_stats()["curr_clients"] == 1
