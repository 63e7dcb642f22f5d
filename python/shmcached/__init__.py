"""shmcached - the shmcached cache from Python, by function call.

Owns: the package's public names.  shmcached.Client has pymemcache's
interface over the library (client.py); shmcached.Cache is the library's
handle itself (the C extension _shmcached: CAS tokens, get_info,
shmc_stats, the protection mode); the exceptions are pymemcache's where
it has them (errors.py).  docs/python.md is the guide.
"""

from . import _shmcached
from .errors import (  # noqa: F401 (re-exported)
    MemcacheError,
    MemcacheClientError,
    MemcacheUnknownCommandError,
    MemcacheIllegalInputError,
    MemcacheServerError,
    MemcacheUnknownError,
    MemcacheUnexpectedCloseError,
    ShmcachedError,
    ShmcachedClientError,
    ShmcachedServerError,
)
from .client import Client  # noqa: F401

__version__ = "@PROJECT_VERSION@"

Cache = _shmcached.Cache
create = _shmcached.create
destroy = _shmcached.destroy
gil_threshold = _shmcached.gil_threshold
status_name = _shmcached.status_name

__all__ = [
    "Client", "Cache", "create", "destroy", "gil_threshold", "status_name",
    "MemcacheError", "MemcacheClientError", "MemcacheUnknownCommandError",
    "MemcacheIllegalInputError", "MemcacheServerError", "MemcacheUnknownError",
    "MemcacheUnexpectedCloseError", "ShmcachedError", "ShmcachedClientError",
    "ShmcachedServerError",
]
