/*
 * record.h - the YCSB driver's records: key names and self-checking values.
 *
 * Record i's key is "user" + i in 10 decimal digits (14 bytes).  A value is
 * derived from its key and a version: the header "k<10 digits>:v<10
 * digits>:" (RECORD_HDR_LEN bytes) then letters that depend on the key, the
 * version and the position.  A reader parses the version back and checks
 * every byte, so a value of another key, of another length, or torn
 * between two versions is caught.
 */
#ifndef YCSB_RECORD_H
#define YCSB_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define RECORD_KEY_LEN 14
#define RECORD_HDR_LEN 24
#define RECORD_MIN_VALUE RECORD_HDR_LEN /* smallest value size (-v) accepted */

/* How values of one size are made; read-only once built, shared by threads. */
typedef struct record_fmt {
    size_t vlen;      /* value size in bytes, >= RECORD_MIN_VALUE */
    char *letters;    /* 'a'..'z' repeated, vlen + 26 bytes: a value's body is a window */
} record_fmt;

/* Build *f for values of vlen bytes.  0, or -1 if vlen is too small or
 * memory is short. */
int record_fmt_init(record_fmt *f, size_t vlen);

/* Free what record_fmt_init allocated. */
void record_fmt_free(record_fmt *f);

/* Write record i's key (no NUL) into out[RECORD_KEY_LEN]. */
void record_key(char *out, uint64_t i);

/* Write the value of record i at version v into out[f->vlen]. */
void record_value(const record_fmt *f, char *out, uint64_t i, uint32_t v);

/* Check that val/len is a value of record i at some version, every byte;
 * store the version in *v (may be NULL).  1 if so, 0 if not. */
int record_check(const record_fmt *f, const char *val, size_t len, uint64_t i, uint32_t *v);

/* The version in val's header without checking the rest (0 if the header
 * does not parse).  For read-modify-write when values are not verified. */
uint32_t record_version(const char *val, size_t len);

#endif /* YCSB_RECORD_H */
