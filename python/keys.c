/*
 * keys.c - pymemcache's key rules, in C because every call checks a key.
 *
 * Owns: turning a str or bytes key into the bytes the library receives,
 * or MemcacheIllegalInputError with pymemcache's messages.  The rules are
 * pymemcache's (check_key_helper): without allow_unicode a key must be
 * ASCII (str or bytes); with it a str is encoded as UTF-8; the prefix is
 * prepended; the result is at most 250 bytes and holds no whitespace and
 * no NUL.  One departure: a key of whitespace only (which pymemcache lets
 * through to the server, which refuses it) is refused here.  An empty key
 * passes, as in pymemcache, and the library refuses it (SHMC_BAD_KEY, a
 * MemcacheClientError, as memcached's ERROR is to pymemcache).
 */
#include "pyshmc.h"

#define KEY_MAX 250 /* memcached's and the library's longest key */

/* The key as bytes, before the prefix; NULL with an exception set. */
static PyObject *key_bytes(PyObject *key, int allow_unicode)
{
    if (PyUnicode_Check(key)) {
        PyObject *b = PyUnicode_AsEncodedString(key, allow_unicode ? "utf-8" : "ascii", "strict");
        if (!b && PyErr_ExceptionMatches(PyExc_UnicodeError)) {
            PyErr_Clear();
            return pyshmc_raise_illegal("Non-ASCII key: %R", key);
        }
        return b;
    }
    if (!PyBytes_Check(key)) {
        PyErr_Format(PyExc_TypeError, "key must be str or bytes, not %.100s", Py_TYPE(key)->tp_name);
        return NULL;
    }
    if (!allow_unicode) {
        const unsigned char *p = (const unsigned char *)PyBytes_AS_STRING(key);
        for (Py_ssize_t i = 0; i < PyBytes_GET_SIZE(key); i++)
            if (p[i] >= 0x80)
                return pyshmc_raise_illegal("Non-ASCII key: %R", key);
    }
    Py_INCREF(key);
    return key;
}

/* bytes.split()'s whitespace, which pymemcache refuses in a key. */
static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* NULL with MemcacheIllegalInputError if full (the prefixed key) breaks a rule. */
static PyObject *key_rules(PyObject *full)
{
    Py_ssize_t n = PyBytes_GET_SIZE(full);
    const unsigned char *p = (const unsigned char *)PyBytes_AS_STRING(full);
    if (n > KEY_MAX)
        return pyshmc_raise_illegal("Key is too long: %R", full);
    for (Py_ssize_t i = 0; i < n; i++)
        if (is_space(p[i]))
            return pyshmc_raise_illegal("Key contains whitespace: %R", full);
    if (memchr(p, 0, (size_t)n))
        return pyshmc_raise_illegal("Key contains null: %R", full);
    return full;
}

PyObject *pyshmc_check_key(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyBytes_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "check_key(key, allow_unicode, prefix: bytes)");
        return NULL;
    }
    int allow_unicode = PyObject_IsTrue(args[1]);
    if (allow_unicode < 0)
        return NULL;
    PyObject *key = key_bytes(args[0], allow_unicode);
    if (!key)
        return NULL;
    if (PyBytes_GET_SIZE(args[2]) > 0) {
        PyObject *full = PyBytes_FromStringAndSize(NULL, PyBytes_GET_SIZE(args[2]) +
                                                             PyBytes_GET_SIZE(key));
        if (!full) {
            Py_DECREF(key);
            return NULL;
        }
        memcpy(PyBytes_AS_STRING(full), PyBytes_AS_STRING(args[2]), PyBytes_GET_SIZE(args[2]));
        memcpy(PyBytes_AS_STRING(full) + PyBytes_GET_SIZE(args[2]), PyBytes_AS_STRING(key),
               PyBytes_GET_SIZE(key));
        Py_SETREF(key, full);
    }
    if (!key_rules(key)) {
        Py_DECREF(key);
        return NULL;
    }
    return key;
}
