/*
 * testvalues.h - self-checking values for the crash tests: each value
 * names its key and a sequence number and ends with a checksum, so a torn,
 * mixed or misplaced value is always detected.
 *
 *   "K=<key>;S=<seq>;<filler>;C=<8 hex digits of FNV-1a of what precedes>"
 */
#ifndef SHMC_TESTVALUES_H
#define SHMC_TESTVALUES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline uint32_t tv_fnv(const char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)p[i]) * 16777619u;
    return h;
}

/* Write the value for (key, seq) with filler bytes into buf; its length. */
static inline size_t tv_make(char *buf, size_t cap, const char *key, uint64_t seq, size_t filler)
{
    int n = snprintf(buf, cap, "K=%s;S=%llu;", key, (unsigned long long)seq);
    for (size_t i = 0; i < filler && (size_t)n + 12 < cap; i++)
        buf[n++] = (char)('a' + (seq + i) % 26);
    n += snprintf(buf + n, cap - (size_t)n, ";C=%08x", tv_fnv(buf, (size_t)n));
    return (size_t)n;
}

/* The seq of a value read under key, or -1 if it is torn or not key's. */
static inline long long tv_check(const char *v, size_t len, const char *key)
{
    char head[300];
    int hn = snprintf(head, sizeof head, "K=%s;S=", key);
    if (len < (size_t)hn + 12 || memcmp(v, head, (size_t)hn) != 0)
        return -1;
    char sum[16];
    snprintf(sum, sizeof sum, ";C=%08x", tv_fnv(v, len - 11));
    if (memcmp(v + len - 11, sum, 11) != 0)
        return -1;
    return strtoll(v + hn, NULL, 10);
}

#endif
