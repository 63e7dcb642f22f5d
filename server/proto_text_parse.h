/*
 * proto_text_parse.h - the pure parser of memcached's text and meta
 * protocols (server/proto_text.c).
 *
 * proto_text_parse() looks at the bytes a client sent and describes the
 * first request in them: which command, its tokens (pointers into the
 * input: nothing is copied or allocated, except a base64-decoded meta
 * key, which lives in the request struct), the numbers it carries, and
 * for storage commands where the data block is.  It never does I/O and
 * never touches the cache; the executor in proto_text.c does.
 *
 * Syntax errors are not failures of the parser: the request then has
 * cmd TC_ERROR and err telling which of memcached's replies applies
 * (text_err_string()); the bytes it occupies are still reported so the
 * caller can go on with the next request.
 */
#ifndef SHMC_SERVER_PROTO_TEXT_PARSE_H
#define SHMC_SERVER_PROTO_TEXT_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* memcached's limits (proto_text.c / memcached.h). */
#define TEXT_KEY_MAX 250          /* longest key */
#define TEXT_MAX_TOKENS 24        /* tokens per line, the terminal one included */
#define TEXT_LINE_MAX 2048        /* a line this long without \n: close (unless get/gets) */
#define TEXT_GET_LINE_MAX (1u << 20) /* our bound on an unterminated multiget line */
#define TEXT_META_MAX_TOKENS 20   /* meta: more tokens than this is an error */
#define TEXT_META_OPAQUE_MAX 32   /* longest O token (with its 'O') */

/* Return values of proto_text_parse besides a positive byte count. */
#define TEXT_NEED_MORE 0L         /* the request is not complete yet */
#define TEXT_CLOSE (-1L)          /* memcached closes the connection (line too long,
                                     a command line that looks like HTTP) */

enum text_cmd {
    TC_ERROR = 0,  /* a request that only gets an error reply (err) */
    TC_GET, TC_GETS, TC_GAT, TC_GATS,
    TC_SET, TC_ADD, TC_REPLACE, TC_APPEND, TC_PREPEND, TC_CAS,
    TC_DELETE, TC_INCR, TC_DECR, TC_TOUCH,
    TC_FLUSH_ALL, TC_VERSION, TC_VERBOSITY, TC_QUIT, TC_SHUTDOWN,
    TC_CACHE_MEMLIMIT, TC_STATS, TC_SLABS, TC_LRU_CRAWLER, TC_LRU, TC_WATCH,
    TC_MG, TC_MS, TC_MD, TC_MA, TC_MN, TC_ME,
    TC_REFRESH_CERTS,  /* -Z: reload the certificate and key (any arguments ignored) */
};

/* The error replies a request can get from the parser alone. */
enum text_err {
    TE_NONE = 0,
    TE_ERROR,                 /* "ERROR" */
    TE_BAD_FORMAT,            /* "CLIENT_ERROR bad command line format" */
    TE_BAD_DATA_CHUNK,        /* "CLIENT_ERROR bad data chunk" */
    TE_TOO_LARGE,             /* "SERVER_ERROR object too large for cache" */
    TE_BAD_EXPTIME,           /* "CLIENT_ERROR invalid exptime argument" */
    TE_BAD_DELTA,             /* "CLIENT_ERROR invalid numeric delta argument" */
    TE_DELETE_USAGE,          /* "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]" */
    TE_META_FLAGS_TOO_LONG_MG,/* "CLIENT_ERROR options flags are too long" */
    TE_META_FLAGS_TOO_LONG,   /* "CLIENT_ERROR options flags too long" */
    TE_META_DUP_FLAG,         /* "CLIENT_ERROR duplicate flag" */
    TE_META_INVALID_FLAG,     /* "CLIENT_ERROR invalid flag" */
    TE_META_BAD_TOKEN,        /* "CLIENT_ERROR bad token in command line format" */
    TE_META_KEY_DECODE,       /* "CLIENT_ERROR error decoding key" */
    TE_META_M_LENGTH,         /* "CLIENT_ERROR incorrect length for M token" */
    TE_META_BAD_INITIAL,      /* "CLIENT_ERROR invalid numeric initial value" */
    TE_META_BAD_DELTA,        /* "CLIENT_ERROR invalid numeric delta value" */
    TE_META_OPAQUE_LONG,      /* "CLIENT_ERROR opaque token too long" */
    TE_META_INVALID_OR_DUP,   /* "CLIENT_ERROR invalid or duplicate flag" */
    TE_META_MS_MODE,          /* "CLIENT_ERROR invalid mode for ms M token" */
    TE_META_MA_MODE,          /* "CLIENT_ERROR invalid mode for ma M token" */
};

/* memcached's reply line for an error kind (without \r\n). */
const char *text_err_string(enum text_err e);

typedef struct text_token {
    const char *p;
    size_t len;
} text_token;

/* Parsed meta flags (memcached's "_meta_flags"). */
typedef struct text_meta {
    unsigned key_binary : 1, value : 1, no_reply : 1, has_cas : 1, new_ttl : 1,
             vivify : 1, recache : 1, invalidate : 1, no_update : 1,
             has_delta : 1, has_initial : 1, has_new_cas : 1;
    char mode;                 /* M token's mode character, 0 if none */
    int32_t exptime;           /* T */
    int32_t autoviv_exptime;   /* N */
    int32_t recache_time;      /* R */
    uint32_t client_flags;     /* F */
    uint64_t req_cas;          /* C */
    uint64_t new_cas;          /* E (accepted, see proto_text.c) */
    uint64_t delta;            /* D (default 1) */
    uint64_t initial;          /* J (default 0) */
    unsigned first_flag;       /* index of the first flag token */
} text_meta;

typedef struct text_request {
    /* in: the largest item (key + value + header) the cache accepts;
     * 0 means memcached's default of 1 MiB */
    uint32_t item_size_max;
    /* in: -C (items carry no CAS: memcached's items are 8 bytes smaller) */
    bool no_cas;

    /* out */
    enum text_cmd cmd;
    enum text_err err;          /* with cmd TC_ERROR */
    enum text_cmd orig_cmd;     /* with cmd TC_ERROR: the command it was, if known */
    bool noreply;               /* the text command asked for noreply */
    text_token tok[TEXT_MAX_TOKENS];
    size_t ntokens;             /* memcached's count: real tokens + the terminal one */
    const char *rest;           /* line left after the 23rd token, or NULL */
    size_t rest_len;
    const char *line_end;       /* end of the command line (before \r\n) */

    /* get/gets/gat/gats: keys are the space-separated words of
     * [keys, line_end) */
    const char *keys;

    /* storage commands, ms */
    const char *key;
    size_t nkey;
    uint32_t flags;
    int64_t exptime;            /* also touch, gat, flush_all delay */
    uint64_t cas;
    uint64_t delta;             /* incr/decr; verbosity/memlimit level */
    const char *data;           /* data block (NULL when swallowed) */
    size_t data_len;
    size_t swallow;             /* bytes after the request to discard */

    text_meta meta;
    unsigned char keybuf[TEXT_KEY_MAX + 4]; /* base64-decoded meta key */
} text_request;

/*
 * Parse the first request of in[0..len).  Returns TEXT_NEED_MORE,
 * TEXT_CLOSE, or the number of bytes the request occupies (line, and for
 * storage commands the data block and its \r\n).  req->item_size_max is
 * read; every other field is written.
 */
long proto_text_parse(const char *in, size_t len, text_request *req);

/* Base64 (RFC 4648, with padding), as memcached's meta "b" flag uses.
 * Decode returns the decoded length, 0 on error or if out is too small. */
size_t text_base64_decode(const char *in, size_t n, unsigned char *out, size_t cap);
size_t text_base64_encode(const unsigned char *in, size_t n, char *out, size_t cap);

#endif
