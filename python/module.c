/*
 * module.c - the extension module shmcached._shmcached: its functions,
 * its constants (store modes, status codes), and the state that is the
 * process's rather than one Cache's: the fork generation (a
 * pthread_atfork child handler) and the GIL threshold.
 *
 * The Python package shmcached (python/shmcached/__init__.py) builds
 * pymemcache's Client on top of it; see docs/python.md.
 */
#include "pyshmc.h"

#include <pthread.h>

/* Measured on the project's machine (docs/python.md, "Threads and the
 * GIL"): from this size on, releasing and re-taking the GIL costs at most
 * about 4% of a get, and another thread gets 2 us or more to run. */
#define GIL_THRESHOLD_DEFAULT (64 * 1024)

volatile unsigned long pyshmc_fork_generation;
Py_ssize_t pyshmc_gil_threshold = GIL_THRESHOLD_DEFAULT;

/* pthread_atfork child handler: every Cache opened before now is its
 * parent's.  Async-signal-safe: one store. */
static void fork_child(void)
{
    pyshmc_fork_generation++;
}

static PyObject *gil_threshold(PyObject *module, PyObject *args)
{
    Py_ssize_t n = -1;
    if (!PyArg_ParseTuple(args, "|n:gil_threshold", &n))
        return NULL;
    Py_ssize_t old = pyshmc_gil_threshold;
    if (n < -1)
        return pyshmc_raise_illegal("gil_threshold: bytes >= 0 (or -1 to read), not %R",
                                    PyTuple_GET_ITEM(args, 0));
    if (n >= 0)
        pyshmc_gil_threshold = n;
    return PyLong_FromSsize_t(old);
}

static PyObject *status_name(PyObject *module, PyObject *arg)
{
    long st = PyLong_AsLong(arg);
    if (st == -1 && PyErr_Occurred())
        return NULL;
    return PyUnicode_FromString(pyshmc_status_name((shmc_status)st));
}

static PyObject *strerror_py(PyObject *module, PyObject *arg)
{
    long st = PyLong_AsLong(arg);
    if (st == -1 && PyErr_Occurred())
        return NULL;
    return PyUnicode_FromString(shmc_strerror((shmc_status)st));
}

static PyMethodDef module_methods[] = {
    {"check_key", (PyCFunction)(void (*)(void))pyshmc_check_key, METH_FASTCALL,
     "check_key(key, allow_unicode, prefix) -> bytes (pymemcache's key rules)"},
    {"create", (PyCFunction)(void (*)(void))pyshmc_create, METH_VARARGS | METH_KEYWORDS,
     "create(path, mem_bytes=0, item_size_max=0, protection=None) -> Cache (a new segment)"},
    {"destroy", (PyCFunction)pyshmc_destroy, METH_O, "destroy(path): remove the segment"},
    {"gil_threshold", gil_threshold, METH_VARARGS,
     "gil_threshold([bytes]) -> the previous threshold: values this large are copied "
     "without the GIL"},
    {"status_name", status_name, METH_O, "status_name(code) -> 'SHMC_...'"},
    {"strerror", strerror_py, METH_O, "strerror(code) -> the library's description"},
    {"_set_error_factory", pyshmc_set_error_factory, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "shmcached._shmcached",
    .m_doc = "The shmcached library (include/shmcached.h) for CPython: the Cache handle.",
    .m_size = -1,
    .m_methods = module_methods,
};

/* The store modes and status codes, as ints named as in shmcached.h. */
static int add_constants(PyObject *m)
{
    static const struct {
        const char *name; /* without the SHMC_ prefix */
        int value;        /* the enum's value */
    } modes[] = {{"SET", SHMC_SET},         {"ADD", SHMC_ADD},         {"REPLACE", SHMC_REPLACE},
                 {"APPEND", SHMC_APPEND},   {"PREPEND", SHMC_PREPEND}, {"CAS", SHMC_CAS},
                 {"CAS_STALE", SHMC_CAS_STALE}};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (PyModule_AddIntConstant(m, modes[i].name, modes[i].value) < 0)
            return -1;
    for (int st = 0; st < SHMC_STATUS_COUNT; st++)
        if (PyModule_AddIntConstant(m, pyshmc_status_name((shmc_status)st), st) < 0)
            return -1;
    return 0;
}

PyMODINIT_FUNC PyInit__shmcached(void)
{
    static int registered;
    if (!registered) {
        if (pthread_atfork(NULL, NULL, fork_child) != 0)
            return PyErr_Format(PyExc_OSError, "pthread_atfork failed");
        registered = 1;
    }
    if (PyType_Ready(&pyshmc_CacheType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module_def);
    if (!m)
        return NULL;
    Py_INCREF(&pyshmc_CacheType);
    if (PyModule_AddObject(m, "Cache", (PyObject *)&pyshmc_CacheType) < 0 ||
        add_constants(m) < 0) {
        Py_DECREF(&pyshmc_CacheType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
