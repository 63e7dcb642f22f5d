/* api_example.c - the libshmcached API in one page (shown in docs/api.md). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <shmcached.h>

static int die(const char *what, shmc_status st)
{
    fprintf(stderr, "%s: %s\n", what, shmc_strerror(st));
    return 1;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "/dev/shm/shmcached-example";
    shmc_cache *cache;
    int created = 1;

    /* Create the segment, or attach it if another process already did. */
    shmc_status st = shmc_create(path, NULL, &cache);
    if (st == SHMC_FILE_EXISTS) {
        created = 0;
        st = shmc_open(path, &cache);
    }
    if (st != SHMC_OK)
        return die(path, st);

    /* Store a value: key, value, client flags, exptime (0 = never). */
    const char *key = "greeting";
    const char *text = "hello from shared memory, no server involved";
    st = shmc_set(cache, key, strlen(key), text, strlen(text), 42, 0);
    if (st != SHMC_OK)
        return die("set", st);

    /* Values are copied out.  A buffer too small reports the needed size. */
    char small[8], *buf = small;
    size_t len = sizeof small;
    uint32_t flags;
    st = shmc_get(cache, key, strlen(key), buf, &len, &flags, NULL);
    if (st == SHMC_BUFFER_TOO_SMALL && (buf = malloc(len)) != NULL)
        st = shmc_get(cache, key, strlen(key), buf, &len, &flags, NULL);
    if (buf == NULL || st != SHMC_OK)
        return die("get", buf ? st : SHMC_SYSTEM);
    printf("%s = \"%.*s\" (flags %" PRIu32 ")\n", key, (int)len, buf, flags);
    if (buf != small)
        free(buf);

    /* Counters are decimal values, updated atomically across processes. */
    uint64_t hits;
    st = shmc_set(cache, "hits", 4, "41", 2, 0, 0);
    if (st == SHMC_OK)
        st = shmc_incr(cache, "hits", 4, 1, &hits);
    if (st != SHMC_OK)
        return die("incr", st);
    printf("hits = %" PRIu64 "\n", hits);

    /* Delete, then the key is gone for every process. */
    st = shmc_delete(cache, key, strlen(key), 0);
    if (st != SHMC_OK)
        return die("delete", st);
    len = 0;
    st = shmc_get(cache, key, strlen(key), NULL, &len, NULL, NULL);
    printf("after delete: %s\n", shmc_strerror(st));

    shmc_close(cache);
    if (created)
        shmc_destroy(path); /* we made it, we remove it */
    return st == SHMC_NOT_FOUND ? 0 : 1;
}
