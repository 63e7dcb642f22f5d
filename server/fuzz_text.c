/*
 * fuzz_text.c - libFuzzer harness of the text/meta protocol
 * (tests/fuzz_text.sh builds and runs it).  Each input is fed to
 * proto_text_process as a connection would: in chunks whose sizes come
 * from the input's first byte, keeping what was not consumed.  The
 * parser alone also runs on the exact input (ASan catches any read past
 * its end).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "protocol.h"
#include "proto_text_parse.h"

static shmc_cache *cache;
static char path[256];

static void cleanup(void)
{
    shmc_close(cache);
    shmc_destroy(path);
}

static srv_settings settings = {
    .item_size_max = 64 * 1024,
    .allow_shutdown = 1,
    .cas_enabled = 1,
    .flush_enabled = 1,
    .max_reqs_per_event = 20,
    .version = "fuzz",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!cache) {
        shmc_config cfg;
        shmc_config_init(&cfg);
        cfg.mem_bytes = 4u << 20;
        cfg.item_size_max = 64 * 1024;
        snprintf(path, sizeof path, "/dev/shm/shmc-fuzz-text-%ld", (long)getpid());
        unlink(path);
        if (shmc_create(path, &cfg, &cache) != SHMC_OK)
            abort();
        atexit(cleanup);
    }
    if (size == 0)
        return 0;

    /* the parser alone, on an exact-size copy */
    char *exact = malloc(size);
    memcpy(exact, data + 1, size - 1);
    size_t off = 0;
    while (off < size - 1) {
        text_request r;
        r.item_size_max = settings.item_size_max;
        long n = proto_text_parse(exact + off, size - 1 - off, &r);
        if (n <= 0)
            break;
        if ((size_t)n > size - 1 - off)
            abort();
        off += (size_t)n;
    }
    free(exact);

    /* the whole protocol, chunked like a connection */
    size_t chunk = (size_t)(data[0] % 64) + 1;
    const char *in = (const char *)data + 1;
    size_t n = size - 1, given = 0, have = 0;
    char *buf = malloc(n + 1);
    srv_session s = {.cache = cache, .settings = &settings};
    srv_buf out = {0};
    while (given < n || have > 0) {
        size_t k = n - given < chunk ? n - given : chunk;
        memcpy(buf + have, in + given, k);
        have += k;
        given += k;
        enum srv_action act;
        out.len = 0;
        size_t used = proto_text_process(&s, buf, have, &out, &act);
        if (used > have)
            abort();
        memmove(buf, buf + used, have - used);
        have -= used;
        if (act != SRV_CONTINUE)
            break;
        if (k == 0)
            break;
    }
    srv_buf_free(&out);
    free(buf);
    return 0;
}
