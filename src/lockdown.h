/*
 * lockdown.h - the lockdown's internal interface (the public calls are
 * shmc_lockdown() and shmc_lockdown_with(), include/shmcached.h).
 */
#ifndef SHMC_LOCKDOWN_H
#define SHMC_LOCKDOWN_H

#include <stddef.h>

/* Stack the filters that protect [base, base+size) as the lockdown
 * protects every segment attached before it (for a segment attached
 * after).  Outside any gate.  0, or -1 with errno. */
int lockdown_add_region(void *base, size_t size);

#endif
