/*
 * proto_unavailable.c - what the protocols share about a cache call that
 * could not run (protocol.h): the messages for SHMC_BUSY (a lock held past
 * the daemon's -o lock_wait_ms by a stopped or stuck library client) and
 * SHMC_STALE (the segment destroyed or replaced under the daemon), and the
 * count of busy answers that "stats" reports as shm_busy_answers.
 *
 * The count is the process's (one daemon per process, its worker threads
 * share it), like the "stats reset" baseline of proto_text.c.
 */
#include "protocol.h"

static uint64_t busy_answers; /* SHMC_BUSY replies sent, all threads (atomic) */

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

void srv_unavailable_count(shmc_status st)
{
    if (st == SHMC_BUSY)
        __atomic_add_fetch(&busy_answers, 1, __ATOMIC_RELAXED);
}

uint64_t srv_busy_answers(void)
{
    return __atomic_load_n(&busy_answers, __ATOMIC_RELAXED);
}
