/*
 * fuzz_text.c - libFuzzer harness of the text/meta protocol
 * (tests/fuzz.sh text builds and runs it).  Each input is fed to
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

#include "fuzz_common.h"
#include "protocol.h"
#include "proto_text_parse.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    shmc_cache *cache = fuzz_cache("text");
    if (size == 0)
        return 0;

    /* the parser alone, on an exact-size copy */
    char *exact = malloc(size);
    memcpy(exact, data + 1, size - 1);
    size_t off = 0;
    while (off < size - 1) {
        text_request r;
        r.item_size_max = fuzz_settings.item_size_max;
        r.no_cas = !fuzz_settings.cas_enabled;
        long n = proto_text_parse(exact + off, size - 1 - off, &r);
        if (n <= 0)
            break;
        if ((size_t)n > size - 1 - off)
            abort();
        off += (size_t)n;
    }
    free(exact);

    /* the whole protocol, chunked like a connection */
    srv_session s = {.cache = cache, .settings = &fuzz_settings};
    fuzz_feed_chunked(proto_text_process, &s, (const char *)data + 1, size - 1,
                      (size_t)(data[0] % 64) + 1, NULL);
    return 0;
}
