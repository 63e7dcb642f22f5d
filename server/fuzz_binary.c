/*
 * fuzz_binary.c - libFuzzer harness of the binary protocol
 * (tests/fuzz.sh binary builds and runs it).  Each input is fed to
 * proto_binary_process as a connection would: in chunks whose sizes come
 * from the input's first byte, keeping what was not consumed; the first
 * byte's top bit turns on a SASL requirement served by a fake mechanism
 * (no libsasl2 here).  The parser alone also runs on an exact-size copy
 * of the input (ASan catches any read past its end).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "protocol.h"
#include "proto_binary_parse.h"


static bool fake_list(void *ctx, void **conn, const char **out, unsigned *outlen)
{
    (void)ctx;
    (void)conn;
    *out = "PLAIN";
    *outlen = 5;
    return true;
}

static enum srv_sasl_result fake_auth(void *ctx, void **conn, bool step, const char *mech,
                                      const char *data, unsigned len, const char **out,
                                      unsigned *outlen)
{
    (void)ctx;
    (void)conn;
    (void)step;
    *out = "";
    *outlen = 0;
    if (strcmp(mech, "PLAIN") != 0)
        return SRV_SASL_FAIL;
    if (len == 0)
        return SRV_SASL_CONTINUE;
    return len == 4 && memcmp(data, "\0u\0p", 4) == 0 ? SRV_SASL_OK : SRV_SASL_FAIL;
}

static void fake_free(void *ctx, void *conn)
{
    (void)ctx;
    (void)conn;
}

static const srv_sasl_ops fake_sasl = {NULL, fake_list, fake_auth, fake_free};

/* Every binary reply is a run of whole response packets. */
static void check_whole_packets(const srv_buf *out)
{
    size_t o = 0;
    while (o < out->len) {
        const unsigned char *h = (const unsigned char *)out->data + o;
        if (out->len - o < 24 || h[0] != 0x81)
            abort();
        uint32_t bl = (uint32_t)h[8] << 24 | (uint32_t)h[9] << 16 | (uint32_t)h[10] << 8 | h[11];
        o += 24 + (size_t)bl;
    }
    if (o != out->len)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    shmc_cache *cache = fuzz_cache("binary");
    if (size == 0)
        return 0;

    /* the parser alone, on an exact-size copy */
    unsigned char *exact = malloc(size);
    memcpy(exact, data + 1, size - 1);
    size_t off = 0;
    while (off < size - 1) {
        bin_request r;
        r.item_size_max = fuzz_settings.item_size_max;
        r.no_cas = !fuzz_settings.cas_enabled;
        long n = proto_binary_parse(exact + off, size - 1 - off, &r);
        if (n <= 0)
            break;
        if ((size_t)n > size - 1 - off)
            abort();
        if (r.value && r.value + r.nvalue > (const char *)exact + size - 1)
            abort();
        if (r.key && r.key + r.nkey > (const char *)exact + size - 1)
            abort();
        off += (size_t)n;
        if (r.swallow > size - 1 - off)
            break;
        off += (size_t)r.swallow;
    }
    free(exact);

    /* the whole protocol, chunked like a connection */
    srv_settings set = fuzz_settings;
    set.sasl = (data[0] & 0x80) ? &fake_sasl : NULL;
    srv_session s = {.cache = cache, .settings = &set};
    fuzz_feed_chunked(proto_binary_process, &s, (const char *)data + 1, size - 1,
                      (size_t)(data[0] % 64) + 1, check_whole_packets);
    return 0;
}
