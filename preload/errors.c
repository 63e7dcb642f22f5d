/*
 * errors.c - memcached_last_error, _last_error_message, _last_error_errno
 * (and the older memcached_error) after calls the shim answered.
 *
 * Every libmemcached call starts by clearing the memcached_st's error, and
 * the plain outcomes the shim answers (found, not found, stored, not
 * stored, exists) set none: so after a local call libmemcached would
 * report MEMCACHED_SUCCESS.  The shim cannot clear libmemcached's state
 * (no public call does it without I/O), so it remembers the error that
 * was there (code, errno and message) and reports success for as long as
 * libmemcached's own state still shows that same error; once an intercepted
 * call goes to the real libmemcached, or any other call changes its
 * state, libmemcached answers again.  (A call the shim does not intercept
 * that sets exactly the same error, message included, is taken for the
 * old one: docs/clients.md lists it.)
 */
#include <string.h>

#include "shim.h"

REAL_SLOT(memcached_last_error);
REAL_SLOT(memcached_last_error_message);
REAL_SLOT(memcached_last_error_errno);
REAL_SLOT(memcached_error);

/* How many memcached_st have a cleared error now: while none has, a
 * pass-through call need not look its state up. */
static unsigned long ncleared;

/* Set or unset st->cleared, keeping ncleared. */
static void set_cleared(shim_memc *st, int on)
{
    if (st->cleared == on)
        return;
    st->cleared = on;
    if (on)
        __atomic_add_fetch(&ncleared, 1, __ATOMIC_RELAXED);
    else
        __atomic_sub_fetch(&ncleared, 1, __ATOMIC_RELAXED);
}

/* Whether libmemcached's state of memc is still the one st remembered. */
static int unchanged(memcached_st *memc, const shim_memc *st)
{
    if (CALL_REAL(memcached_last_error, memc) != st->err_rc ||
        CALL_REAL(memcached_last_error_errno, memc) != st->err_errno)
        return 0;
    const char *msg = CALL_REAL(memcached_last_error_message, memc);
    return msg && !strncmp(msg, st->err_msg, sizeof st->err_msg);
}

void shim_local_done(memcached_st *memc)
{
    memcached_return_t rc = CALL_REAL(memcached_last_error, memc);
    if (rc == MEMCACHED_SUCCESS)
        return; /* nothing to hide: the common case costs one call */
    shim_memc *st = shim_state(memc);
    if (!st)
        return;
    set_cleared(st, 1);
    st->err_rc = rc;
    st->err_errno = CALL_REAL(memcached_last_error_errno, memc);
    const char *msg = CALL_REAL(memcached_last_error_message, memc);
    strncpy(st->err_msg, msg ? msg : "", sizeof st->err_msg - 1);
    st->err_msg[sizeof st->err_msg - 1] = '\0';
}

/* 1 if memc's error is one a local call has cleared since. */
static int cleared(const memcached_st *shell, int on)
{
    memcached_st *memc = (memcached_st *)shell;
    if (!on || !memc)
        return 0;
    shim_memc *st = shim_state_find(memc);
    if (!st || !st->cleared)
        return 0;
    if (unchanged(memc, st))
        return 1;
    set_cleared(st, 0);
    return 0;
}

void shim_passing(const memcached_st *memc)
{
    if (!memc || !__atomic_load_n(&ncleared, __ATOMIC_RELAXED))
        return;
    shim_memc *st = shim_state_find(memc);
    if (st)
        set_cleared(st, 0);
}

SHIM_EXPORT memcached_return_t memcached_last_error(const memcached_st *memc)
{
    return cleared(memc, SHIM_ON()) ? MEMCACHED_SUCCESS : CALL_REAL(memcached_last_error, memc);
}

SHIM_EXPORT const char *memcached_last_error_message(const memcached_st *memc)
{
    return cleared(memc, SHIM_ON()) ? memcached_strerror(memc, MEMCACHED_SUCCESS)
                         : CALL_REAL(memcached_last_error_message, memc);
}

SHIM_EXPORT int memcached_last_error_errno(const memcached_st *memc)
{
    return cleared(memc, SHIM_ON()) ? 0 : CALL_REAL(memcached_last_error_errno, memc);
}

SHIM_EXPORT const char *memcached_error(const memcached_st *memc)
{
    return cleared(memc, SHIM_ON()) ? memcached_strerror(memc, MEMCACHED_SUCCESS)
                         : CALL_REAL(memcached_error, memc);
}
