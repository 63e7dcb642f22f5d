/*
 * errors.c - the library's status codes as Python exceptions.
 *
 * Owns: the table of status names, and the call into the Python package's
 * error factory (shmcached/errors.py), which picks the exception class
 * (pymemcache's where it has one) and builds it.  The classes live in
 * Python so that they can derive from pymemcache's when it is installed.
 */
#include "pyshmc.h"

/* The package's factory(status, name, message) -> exception instance. */
static PyObject *error_factory;
/* The package's MemcacheIllegalInputError (bad keys, bad arguments). */
static PyObject *illegal_input;

static const char *const status_names[] = {
    [SHMC_OK] = "SHMC_OK",
    [SHMC_NOT_FOUND] = "SHMC_NOT_FOUND",
    [SHMC_NOT_STORED] = "SHMC_NOT_STORED",
    [SHMC_EXISTS] = "SHMC_EXISTS",
    [SHMC_NOT_NUMERIC] = "SHMC_NOT_NUMERIC",
    [SHMC_TOO_LARGE] = "SHMC_TOO_LARGE",
    [SHMC_BAD_KEY] = "SHMC_BAD_KEY",
    [SHMC_NO_MEMORY] = "SHMC_NO_MEMORY",
    [SHMC_BUFFER_TOO_SMALL] = "SHMC_BUFFER_TOO_SMALL",
    [SHMC_INVALID] = "SHMC_INVALID",
    [SHMC_NOT_SEGMENT] = "SHMC_NOT_SEGMENT",
    [SHMC_BAD_VERSION] = "SHMC_BAD_VERSION",
    [SHMC_CORRUPT] = "SHMC_CORRUPT",
    [SHMC_PERMISSION] = "SHMC_PERMISSION",
    [SHMC_FILE_EXISTS] = "SHMC_FILE_EXISTS",
    [SHMC_NO_FILE] = "SHMC_NO_FILE",
    [SHMC_TOO_MANY_CLIENTS] = "SHMC_TOO_MANY_CLIENTS",
    [SHMC_SYSTEM] = "SHMC_SYSTEM",
    [SHMC_NO_PROTECTION] = "SHMC_NO_PROTECTION",
    [SHMC_UNSAFE_PROCESS] = "SHMC_UNSAFE_PROCESS",
    [SHMC_BUSY] = "SHMC_BUSY",
    [SHMC_STALE] = "SHMC_STALE",
};
_Static_assert(sizeof status_names / sizeof status_names[0] == SHMC_STATUS_COUNT,
               "a status code without a name");

const char *pyshmc_status_name(shmc_status st)
{
    if ((unsigned)st >= SHMC_STATUS_COUNT || !status_names[st])
        return "SHMC_?";
    return status_names[st];
}

PyObject *pyshmc_raise(shmc_status st, const char *what)
{
    int saved_errno = errno;
    if (!error_factory) {
        PyErr_Format(PyExc_RuntimeError, "%s: %s (%s)", what, shmc_strerror(st),
                     pyshmc_status_name(st));
        return NULL;
    }
    PyObject *msg;
    if (st == SHMC_SYSTEM && saved_errno)
        msg = PyUnicode_FromFormat("%s: %s: %s", what, shmc_strerror(st), strerror(saved_errno));
    else
        msg = PyUnicode_FromFormat("%s: %s", what, shmc_strerror(st));
    if (!msg)
        return NULL;
    PyObject *exc = PyObject_CallFunction(error_factory, "isO", (int)st, pyshmc_status_name(st),
                                          msg);
    Py_DECREF(msg);
    if (!exc)
        return NULL;
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
    return NULL;
}

PyObject *pyshmc_raise_illegal(const char *fmt, PyObject *arg)
{
    PyErr_Format(illegal_input ? illegal_input : PyExc_ValueError, fmt, arg);
    return NULL;
}

PyObject *pyshmc_set_error_factory(PyObject *module, PyObject *args)
{
    PyObject *factory, *illegal;
    if (!PyArg_ParseTuple(args, "OO:_set_error_factory", &factory, &illegal))
        return NULL;
    if (!PyCallable_Check(factory) || !PyExceptionClass_Check(illegal)) {
        PyErr_SetString(PyExc_TypeError, "_set_error_factory(callable, exception class)");
        return NULL;
    }
    Py_INCREF(factory);
    Py_INCREF(illegal);
    Py_XSETREF(error_factory, factory);
    Py_XSETREF(illegal_input, illegal);
    Py_RETURN_NONE;
}
