/*
 * tool_stopper.c - a library client that stops itself inside a store,
 * holding its locks, for tests/test_server.sh (issue 16: one stopped
 * client must not freeze the server).
 *
 *   tool_stopper SEGMENT KEY [VALUE]
 *
 * Attaches SEGMENT, arms the crash point "publish.lru_linked" with SIGSTOP
 * (src/crashpoint.h: the store then stops holding KEY's stripe lock and a
 * shard lock of its class) and sets KEY.  The process stays stopped there
 * until it is killed (the test kill -9's it; the next caller that needs a
 * lock takes it over from the dead owner).  Not a cmocka test: its name
 * keeps it out of CMake's tests/test_*.c glob.  Linked with
 * libshmcached_crash (CMake target shmcached_crash).
 *
 * Exit status (only when it does not stop): 2 bad usage, 3 the attach
 * failed, 4 the set returned without reaching the point.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "crashpoint.h"
#include "shmcached.h"

#define STOP_POINT "publish.lru_linked" /* a store, with its locks held */

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: tool_stopper SEGMENT KEY [VALUE]\n");
        return 2;
    }
    const char *key = argv[2];
    const char *value = argc > 3 ? argv[3] : "held by a stopped client";
    shmc_cache *c = NULL;
    shmc_status st = shmc_open(argv[1], &c);
    if (st != SHMC_OK) {
        fprintf(stderr, "tool_stopper: open %s: %s\n", argv[1], shmc_strerror(st));
        return 3;
    }
    crashpoint_arm_signal(STOP_POINT, 0, SIGSTOP);
    st = shmc_set(c, key, strlen(key), value, strlen(value), 0, 0);
    fprintf(stderr, "tool_stopper: the set returned (%s) without stopping at %s\n",
            shmc_strerror(st), STOP_POINT);
    shmc_close(c);
    return 4;
}
