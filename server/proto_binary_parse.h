/*
 * proto_binary_parse.h - the pure parser of memcached's binary protocol
 * (server/proto_binary.c).
 *
 * A request is a 24-byte header (magic 0x80, opcode, key length, extras
 * length, data type, vbucket, total body length, opaque, CAS; numbers in
 * network order), then extras, key and value.  proto_binary_parse() looks
 * at the first request of the bytes a client sent and describes it: the
 * command (quiet variants mapped to their base command, with quiet set),
 * the decoded extras, pointers into the input for key and value (nothing
 * is copied), and how many bytes after it are to be discarded.  No I/O,
 * no cache.
 *
 * Requests memcached rejects are described, not failed: err tells which
 * reply and whether the connection then closes.  A bad magic byte is the
 * only input the parser refuses (BIN_CLOSE): memcached closes silently,
 * once a whole header is in.  As memcached, an error about the lengths is
 * reported only once the extras and key have arrived.
 */
#ifndef SHMC_SERVER_PROTO_BINARY_PARSE_H
#define SHMC_SERVER_PROTO_BINARY_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BIN_HEADER_LEN 24
#define BIN_REQ_MAGIC 0x80
#define BIN_RES_MAGIC 0x81
#define BIN_KEY_MAX 250          /* memcached's KEY_MAX_LENGTH */
#define BIN_SASL_MECH_MAX 32     /* memcached's MAX_SASL_MECH_LEN */
#define BIN_SASL_DATA_MAX 8192   /* our bound on a SASL auth/step payload */

/* Return values of proto_binary_parse besides a positive byte count. */
#define BIN_NEED_MORE 0L
#define BIN_CLOSE (-1L)          /* bad magic: close without a reply */

enum bin_opcode {
    BIN_GET = 0x00, BIN_SET = 0x01, BIN_ADD = 0x02, BIN_REPLACE = 0x03,
    BIN_DELETE = 0x04, BIN_INCREMENT = 0x05, BIN_DECREMENT = 0x06, BIN_QUIT = 0x07,
    BIN_FLUSH = 0x08, BIN_GETQ = 0x09, BIN_NOOP = 0x0a, BIN_VERSION = 0x0b,
    BIN_GETK = 0x0c, BIN_GETKQ = 0x0d, BIN_APPEND = 0x0e, BIN_PREPEND = 0x0f,
    BIN_STAT = 0x10, BIN_SETQ = 0x11, BIN_ADDQ = 0x12, BIN_REPLACEQ = 0x13,
    BIN_DELETEQ = 0x14, BIN_INCREMENTQ = 0x15, BIN_DECREMENTQ = 0x16, BIN_QUITQ = 0x17,
    BIN_FLUSHQ = 0x18, BIN_APPENDQ = 0x19, BIN_PREPENDQ = 0x1a, BIN_VERBOSITY = 0x1b,
    BIN_TOUCH = 0x1c, BIN_GAT = 0x1d, BIN_GATQ = 0x1e,
    BIN_SASL_LIST_MECHS = 0x20, BIN_SASL_AUTH = 0x21, BIN_SASL_STEP = 0x22,
    BIN_GATK = 0x23, BIN_GATKQ = 0x24,
};

enum bin_status {
    BIN_ST_OK = 0x0000,
    BIN_ST_KEY_ENOENT = 0x0001,
    BIN_ST_KEY_EEXISTS = 0x0002,
    BIN_ST_E2BIG = 0x0003,
    BIN_ST_EINVAL = 0x0004,
    BIN_ST_NOT_STORED = 0x0005,
    BIN_ST_DELTA_BADVAL = 0x0006,
    BIN_ST_AUTH_ERROR = 0x0020,
    BIN_ST_AUTH_CONTINUE = 0x0021,
    BIN_ST_UNKNOWN_COMMAND = 0x0081,
    BIN_ST_ENOMEM = 0x0082,
    BIN_ST_EBUSY = 0x0085,    /* memcached's "busy": SHMC_BUSY (protocol.h) */
    BIN_ST_ETMPFAIL = 0x0086, /* memcached's "temporary failure": SHMC_STALE */
};

/* What the parser alone decided about a request. */
enum bin_err {
    BE_NONE = 0,
    BE_BAD_LENGTHS,   /* key + extras longer than the body: "Unknown command", close */
    BE_PROTOCOL,      /* lengths wrong for the command, or key > 250: "Invalid arguments", close */
    BE_UNKNOWN,       /* unknown opcode: "Unknown command", the body discarded */
    BE_TOO_LARGE,     /* value larger than item_size_max: "Too large.", value discarded */
    BE_SASL_EINVAL,   /* SASL mechanism name or data too long: "Invalid arguments" */
};

/* The request header, in host order. */
typedef struct bin_header {
    uint8_t magic, opcode;
    uint16_t keylen;
    uint8_t extlen, datatype;
    uint16_t vbucket;
    uint32_t bodylen;
    uint32_t opaque;           /* kept in wire order: echoed as is */
    uint64_t cas;
} bin_header;

typedef struct bin_request {
    /* in: the largest item the cache accepts (0: 1 MiB) */
    uint32_t item_size_max;
    /* in: -C (items carry no CAS: memcached's items are 8 bytes smaller) */
    bool no_cas;

    /* out */
    bin_header h;
    uint8_t cmd;               /* the opcode, quiet variants mapped to the base one */
    bool quiet;                /* a ...Q opcode */
    enum bin_err err;
    const char *key;           /* into the input (NULL if the request has none) */
    uint16_t nkey;
    const char *value;         /* into the input; NULL when discarded */
    size_t nvalue;
    uint64_t swallow;          /* bytes after the consumed ones to discard */

    /* decoded extras */
    uint32_t flags;            /* set/add/replace */
    uint32_t exptime;          /* set/add/replace, touch/gat, flush, incr/decr */
    bool has_exptime;          /* flush: extras present */
    uint64_t delta, initial;   /* incr/decr */
} bin_request;

/*
 * Parse the first request of in[0..len).  Returns BIN_NEED_MORE,
 * BIN_CLOSE (bad magic) or the number of bytes to consume now; then
 * req->swallow more bytes (not necessarily received yet) belong to the
 * request and are to be discarded.  req->item_size_max is read; every
 * other field is written.
 */
long proto_binary_parse(const unsigned char *in, size_t len, bin_request *req);

/* memcached's message for an error status (the body of an error reply). */
const char *bin_status_string(enum bin_status st);

#endif
