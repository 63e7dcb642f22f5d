/*
 * pyshmc.h - what the files of the CPython extension shmcached._shmcached
 * share: the Cache object (cache.c), the library's status codes as Python
 * exceptions (errors.c), pymemcache's key check (keys.c), and the
 * module-wide state kept by module.c (the fork generation, the GIL
 * threshold).
 *
 * The extension is a caller of include/shmcached.h and nothing else: it
 * never sees the segment, and every value crosses as a copy.
 */
#ifndef PYSHMC_H
#define PYSHMC_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <shmcached.h>

/* ---- module.c ---- */

/* Bumped in the child by a pthread_atfork handler: a Cache whose handle
 * was opened under another generation holds its parent's handle. */
extern volatile unsigned long pyshmc_fork_generation;

/* Values of at least this many bytes are copied with the GIL released
 * (get and store); docs/python.md says how the default was measured. */
extern Py_ssize_t pyshmc_gil_threshold;

/* ---- errors.c ---- */

/* "SHMC_NOT_FOUND" for SHMC_NOT_FOUND...; "SHMC_?" for an unknown code. */
const char *pyshmc_status_name(shmc_status st);

/* Raise the exception the Python package maps st to (its error factory,
 * registered by _set_error_factory), with what as the context ("get",
 * "open /dev/shm/x"...).  Returns NULL, for `return pyshmc_raise(...)`.
 * Without a factory (the package not imported), raises RuntimeError. */
PyObject *pyshmc_raise(shmc_status st, const char *what);

/* Raise the package's MemcacheIllegalInputError-like class with msg
 * (ValueError before registration).  Returns NULL. */
PyObject *pyshmc_raise_illegal(const char *fmt, PyObject *arg);

/* _set_error_factory(factory, illegal_input_class): called once by the
 * package's __init__. */
PyObject *pyshmc_set_error_factory(PyObject *module, PyObject *args);

/* ---- keys.c ---- */

/* check_key(key, allow_unicode, prefix) -> bytes: pymemcache's key rules
 * (ASCII unless allow_unicode, the prefix prepended, at most 250 bytes,
 * no whitespace, no NUL); MemcacheIllegalInputError otherwise. */
PyObject *pyshmc_check_key(PyObject *module, PyObject *const *args, Py_ssize_t nargs);

/* ---- cache.c ---- */

extern PyTypeObject pyshmc_CacheType;

/* create(path, mem_bytes=0, item_size_max=0, protection=None) -> Cache:
 * a new segment (shmc_create_with); 0 keeps the library's default. */
PyObject *pyshmc_create(PyObject *module, PyObject *args, PyObject *kwargs);

/* destroy(path): shmc_destroy. */
PyObject *pyshmc_destroy(PyObject *module, PyObject *arg);

#endif
