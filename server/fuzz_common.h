/*
 * fuzz_common.h - what the protocol fuzz harnesses share: the settings
 * they run the protocols with, and one small segment per fuzzing process,
 * created on first use and removed at exit.
 */
#ifndef SHMC_FUZZ_COMMON_H
#define SHMC_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
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

#endif
