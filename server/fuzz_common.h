/*
 * fuzz_common.h - what the protocol fuzz harnesses share: the settings
 * they run the protocols with, and one small segment per fuzzing process,
 * created on first use and removed at exit.
 */
#ifndef SHMC_FUZZ_COMMON_H
#define SHMC_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "protocol.h"

static srv_settings fuzz_settings = {
    .item_size_max = 64 * 1024,
    .allow_shutdown = 1,
    .cas_enabled = 1,
    .flush_enabled = 1,
    .max_reqs_per_event = 20,
    .version = "fuzz",
};

static shmc_cache *fuzz_cache_handle;
static char fuzz_path[256];

static void fuzz_cleanup(void)
{
    shmc_close(fuzz_cache_handle);
    shmc_destroy(fuzz_path);
}

/* The fuzzing process's cache (name: which harness, for the file name). */
static shmc_cache *fuzz_cache(const char *name)
{
    if (!fuzz_cache_handle) {
        shmc_config cfg;
        shmc_config_init(&cfg);
        cfg.mem_bytes = 4u << 20;
        cfg.item_size_max = 64 * 1024;
        snprintf(fuzz_path, sizeof fuzz_path, "/dev/shm/shmc-fuzz-%s-%ld", name, (long)getpid());
        unlink(fuzz_path);
        if (shmc_create(fuzz_path, &cfg, &fuzz_cache_handle) != SHMC_OK)
            abort();
        atexit(fuzz_cleanup);
    }
    return fuzz_cache_handle;
}

/* A protocol's entry point (proto_text_process, proto_binary_process). */
typedef size_t (*fuzz_process_fn)(srv_session *s, const char *in, size_t len, srv_buf *out,
                                  enum srv_action *action);

/*
 * Feed in[0..n) to process as a connection would: chunk bytes at a time,
 * keeping what was not consumed, until the input is used up or the
 * protocol asks to close.  check_reply (may be NULL) vets each round's
 * output; any broken contract aborts, which libFuzzer reports.
 */
static void fuzz_feed_chunked(fuzz_process_fn process, srv_session *s, const char *in,
                              size_t n, size_t chunk, void (*check_reply)(const srv_buf *))
{
    size_t given = 0, have = 0;
    char *buf = malloc(n + 1);
    srv_buf out = {0};
    while (given < n || have > 0) {
        size_t k = n - given < chunk ? n - given : chunk;
        memcpy(buf + have, in + given, k);
        have += k;
        given += k;
        enum srv_action act;
        out.len = 0;
        size_t used = process(s, buf, have, &out, &act);
        if (used > have)
            abort();
        if (check_reply)
            check_reply(&out);
        memmove(buf, buf + used, have - used);
        have -= used;
        if (act != SRV_CONTINUE || k == 0)
            break;
    }
    srv_buf_free(&out);
    free(buf);
}

#endif
