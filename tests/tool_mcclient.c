/*
 * tool_mcclient.c - a libmemcached client for tests/test_cluster.sh: one
 * memcached_st over a list of servers, distributed as a memcached cluster
 * is (ketama, weighted, MD5: libmemcached's MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED,
 * what php-memcached's OPT_LIBKETAMA_COMPATIBLE and pylibmc's
 * "ketama_weighted" turn on, and what twemproxy's "distribution: ketama,
 * hash: md5" computes), driven by commands read from stdin.
 *
 *   tool_mcclient ADDR[,ADDR...]      ADDR: host:port, or a UNIX socket's path
 *
 * Linked with Debian's libmemcached (dynamically), so the same binary runs
 * over the plain socket path and, under LD_PRELOAD of
 * libshmcached-memcached.so, over the preload: the test runs it both ways.
 * It never decides which server owns a key; libmemcached does.
 *
 * Commands, one per line, each answered by one line on stdout:
 *
 *   set KEY VALUE   "KEY stored", or "KEY error WHY"
 *   get KEY         "KEY value VALUE", "KEY notfound", or "KEY error WHY"
 *   owner KEY       "KEY owner HOST:PORT": the server libmemcached sends KEY to
 *   getn N KEY      N gets of KEY: "KEY hits H notfound M errors E"
 *
 * WHY is memcached_strerror's name of the result code, then libmemcached's
 * last error message where it has one (e.g. "CONNECTION FAILURE: ...").
 * Keys and values are single words (no blanks).  Not a cmocka test: its
 * name keeps it out of CMake's tests/test_*.c glob; built only where CMake
 * finds libmemcached.
 *
 * Exit status: 0 every line was a known command (a failed call is an
 * answer, not an error); 2 bad usage; 3 libmemcached refused the server
 * list or a behaviour; 4 a line of input is not a command (named on stderr).
 */
#include <libmemcached/memcached.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_BYTES 4096 /* longest command line read from stdin */
#define GETN_MAX 100000000L /* the most gets one getn may ask for */

/* Adds one ADDR ("host:port" or a path) to mc; MEMCACHED_SUCCESS or why not. */
static memcached_return_t add_server(memcached_st *mc, const char *addr)
{
    if (addr[0] == '/')
        return memcached_server_add_unix_socket(mc, addr);
    char host[256];
    const char *colon = strrchr(addr, ':');
    if (!colon || colon == addr || (size_t)(colon - addr) >= sizeof host)
        return MEMCACHED_INVALID_ARGUMENTS;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port <= 0 || port > 65535)
        return MEMCACHED_INVALID_ARGUMENTS;
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    return memcached_server_add(mc, host, (in_port_t)port);
}

/* A memcached_st over the comma-separated list, ketama-weighted; NULL (and
 * the reason on stderr) if libmemcached refuses an address or a behaviour. */
static memcached_st *connect_cluster(char *list)
{
    memcached_st *mc = memcached_create(NULL);
    if (!mc) {
        fprintf(stderr, "tool_mcclient: memcached_create failed\n");
        return NULL;
    }
    memcached_return_t rc = MEMCACHED_SUCCESS;
    for (char *save = NULL, *a = strtok_r(list, ",", &save); a && rc == MEMCACHED_SUCCESS;
         a = strtok_r(NULL, ",", &save)) {
        rc = add_server(mc, a);
        if (rc != MEMCACHED_SUCCESS) {
            fprintf(stderr, "tool_mcclient: server %s: %s\n", a, memcached_strerror(mc, rc));
            memcached_free(mc);
            return NULL;
        }
    }
    rc = memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1);
    /* a dead server fails its calls within a second, not libmemcached's 4 s */
    if (rc == MEMCACHED_SUCCESS)
        rc = memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, 1000);
    if (rc == MEMCACHED_SUCCESS)
        rc = memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, 1000);
    if (rc != MEMCACHED_SUCCESS) {
        fprintf(stderr, "tool_mcclient: behaviour: %s\n", memcached_strerror(mc, rc));
        memcached_free(mc);
        return NULL;
    }
    return mc;
}

/* Prints " error WHY" for a failed call's rc, and the newline. */
static void print_error(memcached_st *mc, memcached_return_t rc)
{
    const char *msg = memcached_last_error_message(mc);
    printf(" error %s", memcached_strerror(mc, rc));
    if (msg && *msg)
        printf(": %s", msg);
    putchar('\n');
}

static void cmd_set(memcached_st *mc, const char *key, const char *value)
{
    memcached_return_t rc = memcached_set(mc, key, strlen(key), value, strlen(value), 0, 0);
    printf("%s", key);
    if (rc == MEMCACHED_SUCCESS)
        printf(" stored\n");
    else
        print_error(mc, rc);
}

static void cmd_get(memcached_st *mc, const char *key)
{
    size_t len = 0;
    uint32_t flags = 0;
    memcached_return_t rc;
    char *v = memcached_get(mc, key, strlen(key), &len, &flags, &rc);
    printf("%s", key);
    if (rc == MEMCACHED_SUCCESS)
        printf(" value %.*s\n", (int)len, v ? v : "");
    else if (rc == MEMCACHED_NOTFOUND)
        printf(" notfound\n");
    else
        print_error(mc, rc);
    free(v);
}

static void cmd_owner(memcached_st *mc, const char *key)
{
    /* libmemcached 1.1 leaves rc as it was when it finds the server */
    memcached_return_t rc = MEMCACHED_SUCCESS;
    const memcached_instance_st *s = memcached_server_by_key(mc, key, strlen(key), &rc);
    printf("%s", key);
    if (s)
        printf(" owner %s:%u\n", memcached_server_name(s), (unsigned)memcached_server_port(s));
    else
        print_error(mc, rc == MEMCACHED_SUCCESS ? MEMCACHED_FAILURE : rc);
}

static void cmd_getn(memcached_st *mc, long n, const char *key)
{
    long hits = 0, missing = 0, errors = 0;
    for (long i = 0; i < n; i++) {
        size_t len;
        uint32_t flags;
        memcached_return_t rc;
        free(memcached_get(mc, key, strlen(key), &len, &flags, &rc));
        if (rc == MEMCACHED_SUCCESS)
            hits++;
        else if (rc == MEMCACHED_NOTFOUND)
            missing++;
        else
            errors++;
    }
    printf("%s hits %ld notfound %ld errors %ld\n", key, hits, missing, errors);
}

/* Runs one input line; 0, or -1 if it is not a command. */
static int run_line(memcached_st *mc, char *line)
{
    char *save = NULL;
    char *cmd = strtok_r(line, " \t\r\n", &save);
    char *a = strtok_r(NULL, " \t\r\n", &save);
    char *b = strtok_r(NULL, " \t\r\n", &save);
    if (!cmd || !a || strtok_r(NULL, " \t\r\n", &save))
        return -1;
    if (!strcmp(cmd, "set") && b)
        cmd_set(mc, a, b);
    else if (!strcmp(cmd, "get") && !b)
        cmd_get(mc, a);
    else if (!strcmp(cmd, "owner") && !b)
        cmd_owner(mc, a);
    else if (!strcmp(cmd, "getn") && b) {
        char *end;
        long n = strtol(a, &end, 10);
        if (*end || n < 0 || n > GETN_MAX)
            return -1;
        cmd_getn(mc, n, b);
    } else {
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2 || !argv[1][0]) {
        fprintf(stderr, "usage: tool_mcclient ADDR[,ADDR...] < commands "
                        "(set KEY VALUE | get KEY | owner KEY | getn N KEY)\n");
        return 2;
    }
    memcached_st *mc = connect_cluster(argv[1]);
    if (!mc)
        return 3;
    char line[LINE_MAX_BYTES];
    unsigned long lineno = 0;
    int status = 0;
    while (status == 0 && fgets(line, sizeof line, stdin)) {
        lineno++;
        if (run_line(mc, line) != 0) {
            fprintf(stderr, "tool_mcclient: line %lu is not a command\n", lineno);
            status = 4;
        }
        fflush(stdout);
    }
    memcached_free(mc);
    return status;
}
