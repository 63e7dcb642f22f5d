/*
 * backend_redis.c - the YCSB driver's "redis" backend: hiredis (Debian
 * libhiredis-dev) to one Redis server over a UNIX socket (an address with
 * a '/') or TCP (host:port).  bench/ycsb.sh starts the server without
 * persistence (--save '' --appendonly no), as a cache runs.  One
 * connection per thread, as a multi-threaded client does; a record is a
 * plain string key, as memcached stores it.
 *
 * Per operation, one command and one round trip:
 *   read           GET key
 *   update, insert SET key value
 *   read-modify-write (F): the runner's read then update, GET then SET
 *   scan (E)       MGET of the scan's keys.  Redis's keys have no order,
 *                  and the driver knows which records a scan covers, so
 *                  it asks for them as a client that knows its keys does:
 *                  in one command, as the mc backend's multi-get.  (YCSB's
 *                  own Redis binding keeps a sorted-set index instead: a
 *                  ZADD beside every insert and a ZRANGEBYSCORE before
 *                  every scan, which would time a skiplist no other
 *                  backend has.)
 * Built only when CMake finds hiredis.
 */
#define _GNU_SOURCE
#include "backend.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char server_version[32] = "?"; /* the server's redis_version (from INFO) */

/* A connection to cfg's server; NULL with err set. */
static redisContext *rd_connect(const ycsb_config *cfg, char *err, size_t errlen)
{
    redisContext *c;
    if (strchr(cfg->address, '/')) {
        c = redisConnectUnix(cfg->address);
    } else {
        char host[256];
        snprintf(host, sizeof host, "%s", cfg->address);
        char *colon = strrchr(host, ':');
        int port = 6379;
        if (colon) {
            *colon = '\0';
            port = atoi(colon + 1);
        }
        c = redisConnect(host, port);
    }
    if (!c || c->err) {
        snprintf(err, errlen, "redis server %s: %s", cfg->address,
                 c ? c->errstr : "out of memory");
        redisFree(c);
        return NULL;
    }
    return c;
}

/* Run a command without arguments that must answer a status (OK, PONG);
 * 0, or -1 with err set. */
static int rd_simple(redisContext *c, const char *cmd, char *err, size_t errlen)
{
    redisReply *r = redisCommand(c, cmd);
    int ok = r && r->type == REDIS_REPLY_STATUS;
    if (!ok)
        snprintf(err, errlen, "redis %s: %s", cmd,
                 !r ? c->errstr : r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
    freeReplyObject(r);
    return ok ? 0 : -1;
}

/* The server's version, from INFO server, into server_version. */
static void read_version(redisContext *c)
{
    redisReply *r = redisCommand(c, "INFO server");
    const char *v = r && r->type == REDIS_REPLY_STRING ? strstr(r->str, "redis_version:") : NULL;
    if (v)
        sscanf(v + strlen("redis_version:"), "%31[^\r\n]", server_version);
    freeReplyObject(r);
}

static int rd_setup(const ycsb_config *cfg, char *err, size_t errlen)
{
    redisContext *c = rd_connect(cfg, err, errlen);
    if (!c)
        return -1;
    /* FLUSHALL empties the server for this run's records; with -L (records
     * already loaded) a PING only proves it answers. */
    int rc = rd_simple(c, cfg->skip_load ? "PING" : "FLUSHALL", err, errlen);
    if (rc == 0)
        read_version(c);
    redisFree(c);
    return rc;
}

static void *rd_open(const ycsb_config *cfg, char *err, size_t errlen)
{
    return rd_connect(cfg, err, errlen);
}

/* A string or nil reply into buf: BK_OK with *len, BK_MISS, or BK_ERROR. */
static bk_status take_value(const redisReply *r, char *buf, size_t cap, size_t *len)
{
    if (r->type == REDIS_REPLY_NIL)
        return BK_MISS;
    if (r->type != REDIS_REPLY_STRING)
        return BK_ERROR;
    *len = r->len;
    memcpy(buf, r->str, *len < cap ? *len : cap);
    return BK_OK;
}

static bk_status rd_read(void *conn, const char *key, size_t klen, char *buf, size_t cap,
                         size_t *len)
{
    redisReply *r = redisCommand(conn, "GET %b", key, klen);
    if (!r)
        return BK_ERROR; /* the connection failed */
    bk_status st = take_value(r, buf, cap, len);
    freeReplyObject(r);
    return st;
}

static bk_status rd_write(void *conn, const char *key, size_t klen, const char *val, size_t vlen)
{
    redisReply *r = redisCommand(conn, "SET %b %b", key, klen, val, vlen);
    bk_status st = r && r->type == REDIS_REPLY_STATUS ? BK_OK : BK_ERROR;
    freeReplyObject(r);
    return st;
}

static bk_status rd_scan(void *conn, const char *keys, size_t klen, unsigned n, char *bufs,
                         size_t cap, size_t *lens)
{
    const char *argv[YCSB_SCAN_MAX + 1];
    size_t argl[YCSB_SCAN_MAX + 1];
    if (n > YCSB_SCAN_MAX)
        return BK_ERROR;
    argv[0] = "MGET";
    argl[0] = 4;
    for (unsigned i = 0; i < n; i++) {
        argv[i + 1] = keys + i * klen;
        argl[i + 1] = klen;
    }
    redisReply *r = redisCommandArgv(conn, (int)n + 1, argv, argl);
    bk_status st = r && r->type == REDIS_REPLY_ARRAY && r->elements == n ? BK_OK : BK_ERROR;
    for (unsigned i = 0; st == BK_OK && i < n; i++) {
        bk_status one = take_value(r->element[i], bufs + i * cap, cap, &lens[i]);
        if (one == BK_MISS)
            lens[i] = BK_ABSENT;
        else if (one == BK_ERROR)
            st = BK_ERROR;
    }
    freeReplyObject(r);
    return st;
}

static void rd_close(void *conn)
{
    redisFree(conn);
}

static void rd_describe(const ycsb_config *cfg, char *buf, size_t cap)
{
    snprintf(buf, cap, "hiredis %d.%d.%d to Redis %s at %s (%s), GET/SET, scans as MGET",
             HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH, server_version, cfg->address,
             strchr(cfg->address, '/') ? "UNIX socket" : "TCP");
}

const ycsb_backend ycsb_backend_redis = {
    .name = "redis",
    .setup = rd_setup,
    .proc_open = NULL, /* connections are per thread */
    .open = rd_open,
    .read = rd_read,
    .update = rd_write,
    .insert = rd_write,
    .scan = rd_scan,
    .close = rd_close,
    .proc_close = NULL,
    .teardown = NULL,
    .describe = rd_describe,
};
