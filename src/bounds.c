/*
 * bounds.c - the record of damage found in a segment (see bounds.h), and
 * shmc_corrupt_field(), which tells a caller what it was.
 *
 * Owns: the calling thread's record (bounds_thread_what, _hits).  The
 * checks themselves are inline in bounds.h, beside the code that reads
 * the segment; the one that walks a chained value's refs is here.
 */
#include "bounds.h"

#include "value.h"

__thread const char *bounds_thread_what;
__thread uint32_t bounds_thread_hits;

bool bounds_fail(const char *what)
{
    bounds_thread_what = what;
    __atomic_store_n(&bounds_thread_hits, bounds_thread_hits + 1, __ATOMIC_RELAXED);
    return false;
}

bool bounds_chained(const shmc_cache *c, const item_t *it)
{
    uint32_t n = value_extra_chunks(c, it->nkey, it->nbytes);
    const ref_t *refs = value_refs((item_t *)it); /* in the head: bounds_item checked its size */
    for (uint32_t i = 0; i < n; i++)
        if (!bounds_chunk_at(c, refs[i], value_chunk_class(c, it->nkey, it->nbytes, n, i)))
            return bounds_fail("chained value ref (item_t.data)");
    return true;
}

const char *shmc_corrupt_field(void)
{
    return bounds_thread_what;
}
