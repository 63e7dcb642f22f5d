/*
 * segment.h - creating, validating, mapping and removing segment files.
 */
#ifndef SHMC_SEGMENT_H
#define SHMC_SEGMENT_H

#include "cache.h"

/* Validate a configuration; SHMC_OK or SHMC_INVALID. */
shmc_status segment_check_config(const shmc_config *cfg);

/* Create the file at path, lay out and initialise a segment in it, and map
 * it into c (c->base, c->size, pointers), tagged with the process's key
 * (protect.h) before it is published.  No descriptor stays open.  On
 * error the file is removed. */
shmc_status segment_create(shmc_cache *c, const char *path, const shmc_config *cfg);

/* Open and map an existing segment into c after validating its header;
 * the mapping is accessible only with the process's key from its first
 * moment, and no descriptor stays open. */
shmc_status segment_attach(shmc_cache *c, const char *path);

/* Unmap what segment_create/attach set up in c. */
void segment_detach(shmc_cache *c);

/* Mark the segment at path retired (seg_header.stale), through the file:
 * every attached handle answers SHMC_STALE from then on, and attaching
 * it fails with SHMC_STALE.  SHMC_OK (also if it was already, or if it
 * is a damaged or foreign-version segment, which nobody can attach), or
 * SHMC_NOT_SEGMENT and the file errors. */
shmc_status segment_retire(const char *path);

/* The first field of a segment out of range - in its header h, its class
 * table, its stripes' locks or its page map (copies, or the mapping) -
 * named as layout.h names it ("seg_header.hash_word", "slab_class.size",
 * "page map"...); NULL if every one is in range.  Only fields that are
 * used as sizes, indices or bounds, or that never change, have a range:
 * counters and statistics may hold any value.  No side effect: attach
 * runs it on what it read with pread, shmc_check on the live segment. */
const char *segment_bad_field(const seg_header *h, const slab_class *classes,
                              const seg_stripe *stripes, const uint8_t *pagemap);

/* The same for the fields fixed at creation only (the format, the
 * parameters, the layout, the class sizes): every other check and walk
 * relies on them. */
const char *segment_bad_fixed(const seg_header *h, const slab_class *classes);

/* Check that the file at path is a segment (magic only); SHMC_OK if so. */
shmc_status segment_probe(const char *path);

#endif
