"""test_interop.py - the same items through pymemcache over build/shmcached's
UNIX socket and through shmcached.Client on the server's segment: pickled
objects written by one read back from the other (pymemcache's serde,
flags included), and the plain commands agree."""
import pytest

pymemcache = pytest.importorskip("pymemcache")
from pymemcache.client.base import Client as PmClient  # noqa: E402
from pymemcache import serde  # noqa: E402

import shmcached  # noqa: E402

OBJECTS = {
    "int": 42,
    "long": 2**70,
    "str": "caf\u00e9",
    "bytes": b"\x00\xffraw",
    "dict": {"a": [1, 2.5, None], "b": ("t", b"u")},
    "set": {1, 2, 3},
}


@pytest.fixture
def pair(server):
    sock, segpath = server
    net = PmClient(sock, serde=serde.pickle_serde, default_noreply=False)
    lib = shmcached.Client(segpath, serde=serde.pickle_serde, default_noreply=False)
    yield net, lib
    net.close()
    lib.close()


def test_pymemcache_writes_library_reads(pair):
    net, lib = pair
    for k, v in OBJECTS.items():
        assert net.set("pm-" + k, v) is True
    for k, v in OBJECTS.items():
        assert lib.get("pm-" + k) == v, k
    assert lib.get_many(["pm-" + k for k in OBJECTS]) == {"pm-" + k: v for k, v in OBJECTS.items()}


def test_library_writes_pymemcache_reads(pair):
    net, lib = pair
    for k, v in OBJECTS.items():
        assert lib.set("lib-" + k, v) is True
    for k, v in OBJECTS.items():
        assert net.get("lib-" + k) == v, k
    assert net.get_many(["lib-" + k for k in OBJECTS]) == {"lib-" + k: v for k, v in OBJECTS.items()}


def test_cas_tokens_cross(pair):
    net, lib = pair
    net.set("c", 1)
    _, cas = lib.gets("c")
    assert net.cas("c", 2, cas) is True  # a token from the library, used over the network
    _, cas = net.gets("c")
    assert lib.cas("c", 3, cas) is True
    assert net.get("c") == 3
    assert lib.cas("c", 4, cas) is False


def test_commands_agree(pair):
    net, lib = pair
    net.set("n", 10)
    assert lib.incr("n", 5) == 15
    assert net.decr("n", 1) == 14
    assert lib.add("n", 0) is False and net.add("n", 0) is False
    assert lib.append("n", b"0") is True
    assert net.get("n") == 140
    assert lib.delete("n") is True
    assert net.delete("n") is False
    assert net.touch("n") is False and lib.touch("n") is False
    lib.set("t", "x")
    assert net.touch("t", 100) is True
    assert 0 < lib.get_info("t")["ttl"] <= 100
