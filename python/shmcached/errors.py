"""errors.py - the exceptions of the shmcached package.

Owns: the exception classes and the mapping from the library's status codes
(include/shmcached.h) to them.  pymemcache's own classes are used when
pymemcache is installed, so that code catching
pymemcache.exceptions.MemcacheClientError keeps working after the switch;
otherwise classes of the same names and hierarchy are defined here.

Every error from the library is a ShmcachedError (a MemcacheError) that
names its status: .status (the code, an int) and .status_name
("SHMC_TOO_LARGE"...).  The statuses memcached answers with CLIENT_ERROR
are also MemcacheClientError; those it answers with SERVER_ERROR are also
MemcacheServerError.
"""

try:
    from pymemcache.exceptions import (
        MemcacheError,
        MemcacheClientError,
        MemcacheUnknownCommandError,
        MemcacheIllegalInputError,
        MemcacheServerError,
        MemcacheUnknownError,
        MemcacheUnexpectedCloseError,
    )
except ImportError:  # pymemcache is not installed: the same names and hierarchy

    class MemcacheError(Exception):
        "Base exception class"

    class MemcacheClientError(MemcacheError):
        "A request was invalid (memcached's CLIENT_ERROR)"

    class MemcacheUnknownCommandError(MemcacheClientError):
        "The command is not one this client can run"

    class MemcacheIllegalInputError(MemcacheClientError):
        "A key or argument breaks the rules (checked before the call)"

    class MemcacheServerError(MemcacheError):
        "The cache could not do it (memcached's SERVER_ERROR)"

    class MemcacheUnknownError(MemcacheError):
        "An answer of unknown meaning"

    class MemcacheUnexpectedCloseError(MemcacheServerError):
        "The connection closed (never raised by the library client)"

from . import _shmcached


class ShmcachedError(MemcacheError):
    """An error status of the library: .status (int), .status_name (str)."""

    def __init__(self, message, status=None, status_name=None):
        super().__init__(message)
        self.status = status
        self.status_name = status_name

    def __str__(self):
        return "%s [%s]" % (self.args[0], self.status_name)


class ShmcachedClientError(ShmcachedError, MemcacheClientError):
    """A bad request: a bad argument, key or a non-numeric incr/decr."""


class ShmcachedServerError(ShmcachedError, MemcacheServerError):
    """The cache could not store: too large, out of memory, busy."""


_CLIENT = {"SHMC_INVALID", "SHMC_BAD_KEY", "SHMC_NOT_NUMERIC"}
_SERVER = {"SHMC_TOO_LARGE", "SHMC_NO_MEMORY", "SHMC_BUSY"}


def _make_error(status, name, message):
    """The exception for one library status (called from the extension)."""
    if name in _CLIENT:
        cls = ShmcachedClientError
    elif name in _SERVER:
        cls = ShmcachedServerError
    else:
        cls = ShmcachedError
    return cls(message, status, name)


_shmcached._set_error_factory(_make_error, MemcacheIllegalInputError)
