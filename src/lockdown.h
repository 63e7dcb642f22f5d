/*
 * lockdown.h - the seccomp lockdown's internal interface (the public call
 * is shmc_lockdown(), include/shmcached.h).
 */
#ifndef SHMC_LOCKDOWN_H
#define SHMC_LOCKDOWN_H

#include <stddef.h>

/* Stack one more filter that protects [base, base+size) as the lockdown
 * protects every segment attached before it (a segment attached after). */
void lockdown_add_region(void *base, size_t size);

#endif
