"""test_pymemcache_suite.py - pymemcache's own tests (Debian's
python3-pymemcache, pymemcache/test/) run against shmcached.Client, where
their semantics are memcached's:

- test_integration.py: every test but test_tls, with its client_class and
  the Client it names directly both made into shmcached.Client on a fresh
  segment (the address and socket_module are ignored);
- test_utils.py: MockMemcacheClient's tests, the mock made into
  shmcached.Client with pickle_serde (the mock keeps Python objects);
- test_client.py: the key checks (check_key_helper made into
  shmcached's check_key).

docs/python.md lists every other pymemcache test and why it cannot apply.
"""
import pytest

pytest.importorskip("pymemcache.test.test_integration")
try:
    import mock  # noqa: F401 - pymemcache's test_client imports the backport
except ImportError:  # python3-mock is the backport of unittest.mock: the same API
    import sys
    import unittest.mock
    sys.modules["mock"] = unittest.mock

import pymemcache.test.test_client as pm_client  # noqa: E402
import pymemcache.test.test_integration as pm_integration  # noqa: E402
import pymemcache.test.test_utils as pm_utils  # noqa: E402
from pymemcache.serde import pickle_serde  # noqa: E402

import shmcached  # noqa: E402

# test_tls: TLS protects a socket; a library call has none.
# test_prepand_append (test_utils): the mock keeps the str '1' and returns
# bytes b'p1a' after append and prepend; through memcached with
# pickle_serde, as here, the item keeps the text flag of its first set and
# reads back as the str 'p1a' (pymemcache's Client on memcached does too).
NOT_APPLICABLE = {"test_tls", "test_prepand_append"}


def _collect(module):
    return {n: getattr(module, n) for n in dir(module)
            if n.startswith("test_") and n not in NOT_APPLICABLE}


# pytest collects these as tests of this module, run with the fixtures below
globals().update({"test_integration_" + n[5:]: f for n, f in _collect(pm_integration).items()})
globals().update({"test_utils_" + n[5:]: f for n, f in _collect(pm_utils).items()})
test_client_check_key_helper = pm_client.test_check_key_helper
test_client_check_key_helper_failing_conditions = pm_client.test_check_key_helper_failing_conditions


def _check_key_helper(key, allow_unicode_keys, key_prefix=b""):
    return shmcached._shmcached.check_key(key, allow_unicode_keys, key_prefix)


@pytest.fixture(autouse=True)
def shmcached_in_place_of_pymemcache(seg, monkeypatch):
    """pymemcache's clients, as those tests name them, made into shmcached's."""
    def client(server=None, socket_module=None, **kwargs):
        return shmcached.Client(seg, **kwargs)

    monkeypatch.setattr(pm_integration, "Client", client)
    monkeypatch.setattr(pm_utils, "MockMemcacheClient",
                        lambda **kw: shmcached.Client(seg, serde=pickle_serde, **kw))
    monkeypatch.setattr(pm_client, "check_key_helper", _check_key_helper)
    return client


@pytest.fixture
def client_class(shmcached_in_place_of_pymemcache):
    return shmcached_in_place_of_pymemcache


@pytest.fixture
def host():
    return "unused"


@pytest.fixture
def port():
    return 0


@pytest.fixture
def socket_module():
    return None
