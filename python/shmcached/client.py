"""client.py - shmcached.Client: pymemcache's Client over the library.

Owns: pymemcache's method names, arguments, return values and exceptions
(pymemcache/client/base.py, 3.5), on top of the extension's Cache
(_shmcached.Cache, one library handle).  Keys follow pymemcache's rules
(checked in C by _shmcached.check_key); values go through the same serde
protocol, so a value pickled by pymemcache through build/shmcached reads
back here with the same serde, and the reverse.

Where it differs from pymemcache, and why (docs/python.md lists them):
- The first argument is the segment's path, not a server address.  The
  socket arguments (timeouts, no_delay, socket_module, keepalive, TLS)
  are accepted and have no effect.
- noreply changes the return value as in pymemcache (True, or None for
  incr/decr), but an error of the library (a value too large, no memory)
  raises even with noreply: the answer costs nothing to read.
- After fork() the Client opens its own handle in the child by itself
  (reopen_after_fork=False: it raises instead).
"""

from . import _shmcached
from .errors import (
    MemcacheIllegalInputError,
    MemcacheUnknownCommandError,
    ShmcachedError,
)

_SET, _ADD, _REPLACE = _shmcached.SET, _shmcached.ADD, _shmcached.REPLACE
_APPEND, _PREPEND, _CAS = _shmcached.APPEND, _shmcached.PREPEND, _shmcached.CAS
_OK, _NOT_FOUND = _shmcached.SHMC_OK, _shmcached.SHMC_NOT_FOUND
_EXISTS = _shmcached.SHMC_EXISTS
# store status -> pymemcache's answer (STORED True, NOT_STORED/EXISTS False,
# NOT_FOUND None)
_STORE_RESULT = {
    _OK: True,
    _shmcached.SHMC_NOT_STORED: False,
    _EXISTS: False,
    _NOT_FOUND: None,
}
_check_key = _shmcached.check_key


def _check_integer(value, name):
    if not isinstance(value, int):
        raise MemcacheIllegalInputError("%s must be integer, got bad value: %r" % (name, value))
    return value


def _check_cas(cas, encoding):
    """pymemcache's rule: an int, or a str/bytes of digits only."""
    if isinstance(cas, (int, str)):
        try:
            cas = str(cas).encode(encoding)
        except UnicodeEncodeError:
            raise MemcacheIllegalInputError("non-ASCII cas value: %r" % cas)
    elif not isinstance(cas, bytes):
        raise MemcacheIllegalInputError(
            "cas must be integer, string, or bytes, got bad value: %r" % cas)
    if not cas.isdigit():
        raise MemcacheIllegalInputError(
            "cas must only contain values in 0-9, got bad value: %r" % cas)
    value = int(cas)
    if value >= 1 << 64:
        raise MemcacheIllegalInputError("cas out of range: %r" % cas)
    return value


class _DefaultSerde:
    """pymemcache's default (LegacyWrappingSerde(None, None)): bytes as is."""

    def serialize(self, key, value):
        return value, 0

    def deserialize(self, key, value, flags):
        return value


class Client:
    """A cache client with pymemcache's interface, attached to the segment at
    path (for example "/dev/shm/shmcached-127.0.0.1-11211", a running
    build/shmcached's).  Extra arguments: protection ("auto", "mpk", "none";
    default the environment's SHMC_PROTECTION, else auto), lock_wait_ms,
    reopen_after_fork (True: a fork child opens its own handle by itself)."""

    def __init__(self, server, serde=None, serializer=None, deserializer=None,
                 connect_timeout=None, timeout=None, no_delay=False, ignore_exc=False,
                 socket_module=None, socket_keepalive=None, key_prefix=b'',
                 default_noreply=True, allow_unicode_keys=False, encoding='ascii',
                 tls_context=None, protection=None, lock_wait_ms=None,
                 reopen_after_fork=True):
        if isinstance(key_prefix, str):
            key_prefix = key_prefix.encode('ascii')
        if not isinstance(key_prefix, bytes):
            raise TypeError("key_prefix should be bytes.")
        self.server = server
        if serde is None and (serializer or deserializer):
            serde = _LegacySerde(serializer, deserializer)
        self.serde = serde or _DefaultSerde()
        # the default serde is the identity: skip its calls on the hot path
        self._plain = serde is None
        self.key_prefix = key_prefix
        self.default_noreply = default_noreply
        self.allow_unicode_keys = bool(allow_unicode_keys)
        self.encoding = encoding
        self.ignore_exc = ignore_exc
        self.connect_timeout, self.timeout, self.no_delay = connect_timeout, timeout, no_delay
        self.socket_module, self.socket_keepalive = socket_module, socket_keepalive
        self.tls_context = tls_context
        self.cache = _shmcached.Cache(server, protection=protection, lock_wait_ms=lock_wait_ms,
                                      reopen_after_fork=reopen_after_fork, reopen_closed=True)

    # ------------------------------------------------------------ keys, values

    def check_key(self, key):
        """pymemcache's check: the key as bytes, prefixed."""
        return _check_key(key, self.allow_unicode_keys, self.key_prefix)

    def _value(self, key, data, flags):
        """(bytes, flags) to store, as pymemcache's _store_cmd makes them."""
        if self._plain:
            data_flags = 0
        else:
            data, data_flags = self.serde.serialize(key, data)
        if flags is not None:
            data_flags = flags
        if not isinstance(data, (bytes, bytearray, memoryview)):
            try:
                data = str(data).encode(self.encoding)
            except UnicodeEncodeError as e:
                raise MemcacheIllegalInputError("Data values must be binary-safe: %s" % e)
        return data, data_flags

    def _store(self, mode, key, value, expire, flags, cas=0):
        _check_integer(expire, "expire")
        data, data_flags = self._value(key, value, flags)
        return self.cache.store(mode, self.check_key(key), data, data_flags, expire, cas)[0]

    def _store_reply(self, mode, key, value, expire, noreply, flags):
        if noreply is None:
            noreply = self.default_noreply
        st = self._store(mode, key, value, expire, flags)
        return True if noreply else _STORE_RESULT[st]

    # ------------------------------------------------------------ storing

    def set(self, key, value, expire=0, noreply=None, flags=None):
        """memcached "set": True (an error raises)."""
        if self._plain and flags is None and type(value) is bytes and type(expire) is int:
            # the common case, inline: _store's steps with nothing to convert
            self.cache.store(_SET, _check_key(key, self.allow_unicode_keys, self.key_prefix),
                             value, 0, expire)
        else:
            self._store(_SET, key, value, expire, flags)
        return True

    def set_many(self, values, expire=0, noreply=None, flags=None):
        """Set every key of the dict values: the list of keys not stored."""
        if noreply is None:
            noreply = self.default_noreply
        failed = [k for k, v in values.items() if self._store(_SET, k, v, expire, flags) != _OK]
        return [] if noreply else failed

    set_multi = set_many

    def add(self, key, value, expire=0, noreply=None, flags=None):
        """memcached "add": True if stored, False if the key exists (True with noreply)."""
        return self._store_reply(_ADD, key, value, expire, noreply, flags)

    def replace(self, key, value, expire=0, noreply=None, flags=None):
        """memcached "replace": True if stored, False if the key is missing."""
        return self._store_reply(_REPLACE, key, value, expire, noreply, flags)

    def append(self, key, value, expire=0, noreply=None, flags=None):
        """memcached "append": True if stored, False if the key is missing."""
        return self._store_reply(_APPEND, key, value, expire, noreply, flags)

    def prepend(self, key, value, expire=0, noreply=None, flags=None):
        """memcached "prepend": True if stored, False if the key is missing."""
        return self._store_reply(_PREPEND, key, value, expire, noreply, flags)

    def cas(self, key, value, cas, expire=0, noreply=False, flags=None):
        """memcached "cas": True if stored, False if the CAS differs, None if
        the key is missing (True with noreply)."""
        cas = _check_cas(cas, self.encoding)
        st = self._store(_CAS, key, value, expire, flags, cas)
        return True if noreply else _STORE_RESULT[st]

    # ------------------------------------------------------------ reading

    def _decode(self, key, hit):
        if self._plain:
            return hit[0]
        return self.serde.deserialize(key, hit[0], hit[1])

    def get(self, key, default=None):
        """The value of key, or default."""
        try:  # the key is checked in the same C call
            hit = self.cache.get(key, self.allow_unicode_keys, self.key_prefix)
        except ShmcachedError:
            if self.ignore_exc:
                return default
            raise
        if hit is None:
            return default
        return hit[0] if self._plain else self.serde.deserialize(key, hit[0], hit[1])

    def _fetch_many(self, keys, with_cas):
        prefixed = {self.check_key(k): k for k in keys}
        try:
            hits = self.cache.get_multi(list(prefixed))
        except ShmcachedError:
            if self.ignore_exc:
                return {}
            raise
        result = {}
        for pk, hit in hits.items():
            key = prefixed[pk]
            value = self._decode(key, hit)
            result[key] = (value, str(hit[2]).encode()) if with_cas else value
        return result

    def get_many(self, keys):
        """{key: value} for the keys found (one library call for all)."""
        if not keys:
            return {}
        return self._fetch_many(keys, False)

    get_multi = get_many

    def gets(self, key, default=None, cas_default=None):
        """(value, cas) or (default, cas_default); cas is bytes of digits, as
        pymemcache's (cas() takes it back)."""
        try:
            hit = self.cache.get(self.check_key(key))
        except ShmcachedError:
            if self.ignore_exc:
                return default, cas_default
            raise
        if hit is None:
            return default, cas_default
        return self._decode(key, hit), str(hit[2]).encode()

    def gets_many(self, keys):
        """{key: (value, cas)} for the keys found."""
        if not keys:
            return {}
        return self._fetch_many(keys, True)

    # ------------------------------------------------------------ the rest

    def delete(self, key, noreply=None):
        """True if deleted, False if missing (True with noreply)."""
        if noreply is None:
            noreply = self.default_noreply
        st = self.cache.delete(self.check_key(key))
        return True if noreply else st == _OK

    def delete_many(self, keys, noreply=None):
        """Delete every key: True."""
        for key in keys:
            self.cache.delete(self.check_key(key))
        return True

    delete_multi = delete_many

    def _arith(self, key, value, noreply, incr):
        key = self.check_key(key)
        _check_integer(value, "value")
        result = self.cache.arith(key, incr, value)
        return None if noreply else result

    def incr(self, key, value, noreply=False):
        """The new value, or None if the key is missing (None with noreply)."""
        return self._arith(key, value, noreply, True)

    def decr(self, key, value, noreply=False):
        """The new value (at least 0), or None if the key is missing."""
        return self._arith(key, value, noreply, False)

    def touch(self, key, expire=0, noreply=None):
        """True if the expiration time was set, False if the key is missing."""
        if noreply is None:
            noreply = self.default_noreply
        key = self.check_key(key)
        _check_integer(expire, "expire")
        found = self.cache.touch(key, expire)
        return True if noreply else found

    def flush_all(self, delay=0, noreply=None):
        """Invalidate every item, now or in delay seconds: True."""
        _check_integer(delay, "delay")
        self.cache.flush_all(delay)
        return True

    def stats(self, *args):
        """The library's statistics (shmc_stats), under memcached's names as
        bytes keys, as pymemcache's stats() returns them.  No sub-command."""
        if args:
            raise MemcacheUnknownCommandError(
                "stats %s: the library client has the general statistics only" % (args,))
        return {k.encode(): v for k, v in self.cache.shmc_stats().items()}

    def version(self):
        """The package's version (bytes), as memcached's "version" answers."""
        from . import __version__
        return __version__.encode()

    def cache_memlimit(self, memlimit):
        raise MemcacheUnknownCommandError("cache_memlimit: a segment's size is fixed")

    def shutdown(self, graceful=False):
        raise MemcacheUnknownCommandError("shutdown: a library client stops no server")

    def close(self):
        """Close the handle; the next call opens it again (as pymemcache reconnects)."""
        self.cache.close()

    disconnect_all = close
    quit = close

    # ------------------------------------------------------------ the library's own

    def get_info(self, key, **kwargs):
        """The item's metadata (flags, cas, len, ttl, last_access, fetched,
        class_id, stale, win), or None: _shmcached.Cache.get_info."""
        return self.cache.get_info(self.check_key(key), **kwargs)

    def shmc_stats(self):
        """shmc_stats as a dict of str keys."""
        return self.cache.shmc_stats()

    @property
    def protection(self):
        """'mpk' or 'none': how the segment is protected in this process."""
        return self.cache.protection

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __setitem__(self, key, value):
        self.set(key, value, noreply=True)

    def __getitem__(self, key):
        value = self.get(key)
        if value is None:
            raise KeyError
        return value

    def __delitem__(self, key):
        self.delete(key, noreply=True)


class _LegacySerde:
    """pymemcache's serializer=/deserializer= functions as a serde."""

    def __init__(self, serializer, deserializer):
        self.serialize = serializer or (lambda key, value: (value, 0))
        self.deserialize = deserializer or (lambda key, value, flags: value)
