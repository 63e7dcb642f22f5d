/*
 * record.c - the YCSB driver's key names and self-checking values
 * (format: record.h).
 */
#include "record.h"

#include <stdlib.h>
#include <string.h>

int record_fmt_init(record_fmt *f, size_t vlen)
{
    if (vlen < RECORD_MIN_VALUE)
        return -1;
    f->vlen = vlen;
    f->letters = malloc(vlen + 26);
    if (!f->letters)
        return -1;
    for (size_t j = 0; j < vlen + 26; j++)
        f->letters[j] = (char)('a' + j % 26);
    return 0;
}

void record_fmt_free(record_fmt *f)
{
    free(f->letters);
    f->letters = NULL;
}

/* n in `digits` decimal digits (the low ones) into out. */
static void put_digits(char *out, uint64_t n, int digits)
{
    for (int d = digits - 1; d >= 0; d--) {
        out[d] = (char)('0' + n % 10);
        n /= 10;
    }
}

/* Parse `digits` decimal digits; -1 if any is not a digit. */
static int64_t get_digits(const char *in, int digits)
{
    int64_t n = 0;
    for (int d = 0; d < digits; d++) {
        if (in[d] < '0' || in[d] > '9')
            return -1;
        n = n * 10 + (in[d] - '0');
    }
    return n;
}

void record_key(char *out, uint64_t i)
{
    memcpy(out, "user", 4);
    put_digits(out + 4, i, 10);
}

static void write_header(char *out, uint64_t i, uint32_t v)
{
    out[0] = 'k';
    put_digits(out + 1, i, 10);
    out[11] = ':';
    out[12] = 'v';
    put_digits(out + 13, v, 10);
    out[23] = ':';
}

/* Where record i's body at version v starts in f->letters. */
static size_t body_offset(uint64_t i, uint32_t v)
{
    return (size_t)((i * 7 + (uint64_t)v * 13) % 26);
}

void record_value(const record_fmt *f, char *out, uint64_t i, uint32_t v)
{
    write_header(out, i, v);
    memcpy(out + RECORD_HDR_LEN, f->letters + body_offset(i, v) + RECORD_HDR_LEN,
           f->vlen - RECORD_HDR_LEN);
}

uint32_t record_version(const char *val, size_t len)
{
    if (len < RECORD_HDR_LEN || val[12] != 'v')
        return 0;
    int64_t v = get_digits(val + 13, 10);
    return v < 0 || v > UINT32_MAX ? 0 : (uint32_t)v;
}

int record_check(const record_fmt *f, const char *val, size_t len, uint64_t i, uint32_t *v)
{
    if (len != f->vlen || val[0] != 'k' || val[11] != ':' || val[12] != 'v' || val[23] != ':')
        return 0;
    if (get_digits(val + 1, 10) != (int64_t)(i % 10000000000ull))
        return 0;
    int64_t ver = get_digits(val + 13, 10);
    if (ver < 0 || ver > UINT32_MAX)
        return 0;
    if (memcmp(val + RECORD_HDR_LEN, f->letters + body_offset(i, (uint32_t)ver) + RECORD_HDR_LEN,
               f->vlen - RECORD_HDR_LEN) != 0)
        return 0;
    if (v)
        *v = (uint32_t)ver;
    return 1;
}
