/*
 * proto_unavailable.c - what the protocols share about a cache call that
 * could not run (protocol.h): the messages for SHMC_BUSY (a lock held past
 * the daemon's -o lock_wait_ms by a stopped or stuck library client) and
 * SHMC_STALE (the segment destroyed or replaced under the daemon), and the
 * count of busy answers that "stats" reports as shm_busy_answers; and the
 * server's other event counters of "stats" (srv_count: bytes_read,
 * bytes_written, store_too_large, store_no_memory...).
 *
 * The counts are the process's (one daemon per process, its worker threads
 * share it), like the "stats reset" baseline of proto_text.c.
 */
#include "protocol.h"

static uint64_t busy_answers; /* SHMC_BUSY replies sent, all threads (atomic) */
static uint64_t counters[SRV_NCOUNTERS]; /* srv_counter events, all threads (atomic) */
static uint64_t counters_base[SRV_NCOUNTERS]; /* their values at "stats reset" (atomic) */

/* Count one answer of st (only SHMC_BUSY is counted). */
static void srv_unavailable_count(shmc_status st)
{
    if (st == SHMC_BUSY)
        __atomic_add_fetch(&busy_answers, 1, __ATOMIC_RELAXED);
}

const char *srv_unavailable_take(shmc_status st, bool *retired)
{
    const char *msg = srv_unavailable_msg(st);
    if (msg) {
        srv_unavailable_count(st);
        if (st == SHMC_STALE)
            *retired = true;
    }
    return msg;
}

const char *srv_unavailable_msg(shmc_status st)
{
    switch (st) {
    case SHMC_BUSY: return SRV_MSG_BUSY;
    case SHMC_STALE: return SRV_MSG_RETIRED;
    default: return NULL;
    }
}

uint64_t srv_busy_answers(void)
{
    return __atomic_load_n(&busy_answers, __ATOMIC_RELAXED);
}

void srv_count(srv_counter which, uint64_t n)
{
    __atomic_add_fetch(&counters[which], n, __ATOMIC_RELAXED);
}

uint64_t srv_counted(srv_counter which)
{
    uint64_t v = __atomic_load_n(&counters[which], __ATOMIC_RELAXED);
    uint64_t b = __atomic_load_n(&counters_base[which], __ATOMIC_RELAXED);
    return v >= b ? v - b : 0;
}

void srv_counters_reset(void)
{
    for (int i = 0; i < SRV_NCOUNTERS; i++)
        __atomic_store_n(&counters_base[i], __atomic_load_n(&counters[i], __ATOMIC_RELAXED),
                         __ATOMIC_RELAXED);
}
