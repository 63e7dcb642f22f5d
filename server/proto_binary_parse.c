/*
 * proto_binary_parse.c - the pure parser of memcached's binary protocol.
 * See proto_binary_parse.h.  The length checks are memcached 1.6's
 * (proto_bin.c dispatch_bin_command), in its order: key + extras longer
 * than the body, key over 250 bytes, then each command's own lengths.
 */
#include "item_size.h"
#include "proto_binary_parse.h"

#include <string.h>

static uint16_t rd16(const unsigned char *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t rd64(const unsigned char *p)
{
    return (uint64_t)rd32(p) << 32 | rd32(p + 4);
}

const char *bin_status_string(enum bin_status st)
{
    switch (st) {
    case BIN_ST_OK: return "";
    case BIN_ST_KEY_ENOENT: return "Not found";
    case BIN_ST_KEY_EEXISTS: return "Data exists for key.";
    case BIN_ST_E2BIG: return "Too large.";
    case BIN_ST_EINVAL: return "Invalid arguments";
    case BIN_ST_NOT_STORED: return "Not stored.";
    case BIN_ST_DELTA_BADVAL: return "Non-numeric server-side value for incr or decr";
    case BIN_ST_AUTH_ERROR: return "Auth failure.";
    case BIN_ST_AUTH_CONTINUE: return "";
    case BIN_ST_UNKNOWN_COMMAND: return "Unknown command";
    case BIN_ST_ENOMEM: return "Out of memory";
    /* memcached has no text for these two; proto_binary.c sends protocol.h's */
    case BIN_ST_EBUSY: return "Busy";
    case BIN_ST_ETMPFAIL: return "Temporary failure";
    }
    return "UNHANDLED ERROR";
}

/* Map a quiet opcode to its base command. */
static uint8_t base_cmd(uint8_t op, bool *quiet)
{
    *quiet = true;
    switch (op) {
    case BIN_GETQ: return BIN_GET;
    case BIN_GETKQ: return BIN_GETK;
    case BIN_SETQ: return BIN_SET;
    case BIN_ADDQ: return BIN_ADD;
    case BIN_REPLACEQ: return BIN_REPLACE;
    case BIN_DELETEQ: return BIN_DELETE;
    case BIN_INCREMENTQ: return BIN_INCREMENT;
    case BIN_DECREMENTQ: return BIN_DECREMENT;
    case BIN_QUITQ: return BIN_QUIT;
    case BIN_FLUSHQ: return BIN_FLUSH;
    case BIN_APPENDQ: return BIN_APPEND;
    case BIN_PREPENDQ: return BIN_PREPEND;
    case BIN_GATQ: return BIN_GAT;
    case BIN_GATKQ: return BIN_GATK;
    default: *quiet = false; return op;
    }
}

/* The command's own length rules: true if the request is well formed. */
static bool lengths_ok(uint8_t cmd, uint8_t ext, uint16_t key, uint32_t body)
{
    switch (cmd) {
    case BIN_VERSION: case BIN_NOOP: case BIN_QUIT: case BIN_SASL_LIST_MECHS:
        return ext == 0 && key == 0 && body == 0;
    case BIN_FLUSH:
        return key == 0 && body == ext && (ext == 0 || ext == 4);
    case BIN_SET: case BIN_ADD: case BIN_REPLACE:
        return ext == 8 && key != 0 && body >= (uint32_t)key + 8;
    case BIN_GET: case BIN_GETK:
        return ext == 0 && key != 0 && body == key;
    case BIN_DELETE:
        return ext == 0 && key != 0 && body == key;
    case BIN_INCREMENT: case BIN_DECREMENT:
        return ext == 20 && key != 0 && body == (uint32_t)key + 20;
    case BIN_APPEND: case BIN_PREPEND:
        return ext == 0 && key != 0;
    case BIN_STAT:
        return ext == 0;
    case BIN_SASL_AUTH: case BIN_SASL_STEP:
        return ext == 0 && key != 0;
    case BIN_TOUCH: case BIN_GAT: case BIN_GATK:
        return ext == 4 && key != 0;
    default:
        return true;
    }
}

static bool known(uint8_t cmd)
{
    switch (cmd) {
    case BIN_GET: case BIN_SET: case BIN_ADD: case BIN_REPLACE: case BIN_DELETE:
    case BIN_INCREMENT: case BIN_DECREMENT: case BIN_QUIT: case BIN_FLUSH: case BIN_NOOP:
    case BIN_VERSION: case BIN_GETK: case BIN_APPEND: case BIN_PREPEND: case BIN_STAT:
    case BIN_TOUCH: case BIN_GAT: case BIN_GATK: case BIN_SASL_LIST_MECHS: case BIN_SASL_AUTH: case BIN_SASL_STEP:
        return true;
    default:
        return false;
    }
}

long proto_binary_parse(const unsigned char *in, size_t len, bin_request *r)
{
    uint32_t ismax = r->item_size_max ? r->item_size_max : (1u << 20);
    bool no_cas = r->no_cas;
    memset(r, 0, sizeof *r);
    r->item_size_max = ismax;
    r->no_cas = no_cas;
    /* memcached judges the magic once the whole header is in */
    if (len < BIN_HEADER_LEN)
        return BIN_NEED_MORE;
    if (in[0] != BIN_REQ_MAGIC)
        return BIN_CLOSE;

    bin_header *h = &r->h;
    h->magic = in[0];
    h->opcode = in[1];
    h->keylen = rd16(in + 2);
    h->extlen = in[4];
    h->datatype = in[5];
    h->vbucket = rd16(in + 6);
    h->bodylen = rd32(in + 8);
    memcpy(&h->opaque, in + 12, 4);
    h->cas = rd64(in + 16);
    r->cmd = base_cmd(h->opcode, &r->quiet);

    uint8_t ext = h->extlen;
    uint16_t klen = h->keylen;
    uint32_t body = h->bodylen;

    /* memcached reads the extras and key before it judges the lengths:
     * the error reply waits for those bytes too */
    size_t head = BIN_HEADER_LEN + (size_t)ext + klen;
    if ((uint32_t)klen + ext > body) {
        r->err = BE_BAD_LENGTHS;
        return len < head ? BIN_NEED_MORE : BIN_HEADER_LEN;
    }
    if (!known(r->cmd)) {
        r->err = BE_UNKNOWN;
        r->swallow = body;
        return BIN_HEADER_LEN;
    }
    if (klen > BIN_KEY_MAX || !lengths_ok(r->cmd, ext, klen, body)) {
        r->err = BE_PROTOCOL;
        return len < head ? BIN_NEED_MORE : BIN_HEADER_LEN;
    }

    /* bytes of the request needed now (the rest is value or discarded) */
    uint64_t vlen = (uint64_t)body - ext - klen;
    size_t need = BIN_HEADER_LEN + (size_t)body;
    bool discard_value = false;

    switch (r->cmd) {
    case BIN_SET: case BIN_ADD: case BIN_REPLACE: case BIN_APPEND: case BIN_PREPEND: {
        if (len < head) /* the flags decide too (memcached reads extras and key first) */
            return BIN_NEED_MORE;
        uint32_t flags = ext >= 4 ? rd32(in + BIN_HEADER_LEN) : 0;
        if (mc_item_too_large(ismax, klen, flags, vlen, !no_cas)) {
            r->err = BE_TOO_LARGE;
            discard_value = true;
        }
        break;
    }
    case BIN_SASL_AUTH: case BIN_SASL_STEP:
        if (klen > BIN_SASL_MECH_MAX || vlen > BIN_SASL_DATA_MAX) {
            r->err = BE_SASL_EINVAL;
            discard_value = true;
        }
        break;
    case BIN_STAT: case BIN_TOUCH: case BIN_GAT: case BIN_GATK:
        discard_value = true; /* no value: extra bytes are discarded */
        break;
    default:
        break;
    }
    if (discard_value)
        need = head;
    if (len < need)
        return BIN_NEED_MORE;

    const unsigned char *e = in + BIN_HEADER_LEN;
    r->key = klen ? (const char *)e + ext : NULL;
    r->nkey = klen;
    if (discard_value) {
        r->swallow = vlen;
    } else {
        r->value = (const char *)in + head;
        r->nvalue = (size_t)vlen;
    }
    switch (r->cmd) {
    case BIN_SET: case BIN_ADD: case BIN_REPLACE:
        r->flags = rd32(e);
        r->exptime = rd32(e + 4);
        break;
    case BIN_INCREMENT: case BIN_DECREMENT:
        r->delta = rd64(e);
        r->initial = rd64(e + 8);
        r->exptime = rd32(e + 16);
        break;
    case BIN_FLUSH:
        if (ext == 4) {
            r->exptime = rd32(e);
            r->has_exptime = true;
        }
        break;
    case BIN_TOUCH: case BIN_GAT: case BIN_GATK:
        r->exptime = rd32(e);
        break;
    default:
        break;
    }
    return (long)need;
}
