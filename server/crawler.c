/*
 * crawler.c - the server's LRU crawler thread (crawler.h).
 *
 * The thread sleeps on a condition variable.  Every tenth of a second,
 * while the crawler is enabled, it crawls the next pages_per_tick pages
 * of the segment (a whole pass takes npages / pages_per_tick tenths); a request
 * wakes it at once and is crawled to its end, a batch of pages per
 * library call, so no call holds a lock for long.  memcached schedules
 * its crawls by the expiry times it has seen; the segment is shared by
 * processes this server does not see, so the walk covers it all.
 */
#include "crawler.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "protocol.h"

#define REQUEST_BATCH 16u   /* pages per library call of a requested crawl */
#define TICK_NS 100000000L  /* between two steps of the background pass: 0.1 s */

/* The one crawler of this process. */
static struct {
    pthread_mutex_t mu;         /* guards every field below */
    pthread_cond_t wake;        /* signalled by a request and by stop */
    pthread_t thread;
    int started;                /* the thread runs */
    int stop;                   /* srv_crawler_stop asked it to end */
    uint64_t requested;         /* classes a request waits to crawl; 0: none */
    int running;                /* a requested crawl is being done */
    shmc_cache *cache;          /* the daemon's handle */
    const int *enabled;         /* the daemon's lru_crawler setting */
    uint32_t pages_per_tick;    /* background pages a tick (TICK_NS) */
    uint32_t cursor;            /* where the background pass goes on */
} C = {.mu = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

/* Crawl class id (0: all) from page on, up to max pages; counts it.
 * Returns the next page, 0 when done or on an error. */
static uint32_t crawl_step(unsigned id, uint32_t page, uint32_t max)
{
    shmc_crawl_result r;
    if (shmc_crawl(C.cache, id, page, max, &r) != SHMC_OK)
        return 0;
    srv_count(SRV_CRAWLER_CHECKED, r.checked);
    srv_count(SRV_CRAWLER_RECLAIMED, r.reclaimed);
    return r.next_page;
}

static int stopping(void)
{
    pthread_mutex_lock(&C.mu);
    int s = C.stop;
    pthread_mutex_unlock(&C.mu);
    return s;
}

/* A whole crawl of the classes in mask. */
static void crawl_request(uint64_t mask)
{
    unsigned n = shmc_class_count(C.cache);
    srv_count(SRV_CRAWLER_STARTS, 1);
    for (unsigned id = mask == SRV_CRAWL_ALL ? 0 : 1; id <= n; id++) {
        if (id && !(mask >> id & 1))
            continue;
        uint32_t page = 0;
        do
            page = crawl_step(id, page, REQUEST_BATCH);
        while (page && !stopping());
        if (id == 0)
            break; /* class 0 is every class */
    }
}

static void *crawler_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&C.mu);
    while (!C.stop) {
        uint64_t mask = C.requested;
        if (mask) {
            C.requested = 0;
            C.running = 1;
            pthread_mutex_unlock(&C.mu);
            crawl_request(mask);
            pthread_mutex_lock(&C.mu);
            C.running = 0;
            continue;
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += TICK_NS;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        if (pthread_cond_timedwait(&C.wake, &C.mu, &until) != ETIMEDOUT || C.stop ||
            !__atomic_load_n(C.enabled, __ATOMIC_RELAXED))
            continue;
        uint32_t from = C.cursor;
        pthread_mutex_unlock(&C.mu);
        if (from == 0)
            srv_count(SRV_CRAWLER_STARTS, 1); /* a background pass begins */
        uint32_t next = crawl_step(0, from, C.pages_per_tick);
        pthread_mutex_lock(&C.mu);
        C.cursor = next;
    }
    pthread_mutex_unlock(&C.mu);
    return NULL;
}

int srv_crawler_start(shmc_cache *cache, const int *enabled, uint32_t pages_per_tick)
{
    C.cache = cache;
    C.enabled = enabled;
    C.pages_per_tick = pages_per_tick ? pages_per_tick : 1;
    C.stop = 0;
    int e = pthread_create(&C.thread, NULL, crawler_main, NULL);
    if (e) {
        errno = e;
        return -1;
    }
    C.started = 1;
    return 0;
}

void srv_crawler_stop(void)
{
    if (!C.started)
        return;
    pthread_mutex_lock(&C.mu);
    C.stop = 1;
    pthread_cond_signal(&C.wake);
    pthread_mutex_unlock(&C.mu);
    pthread_join(C.thread, NULL);
    C.started = 0;
}

int srv_crawler_request(uint64_t mask)
{
    pthread_mutex_lock(&C.mu);
    int ok = C.started && !C.running && !C.requested;
    if (ok) {
        C.requested = mask;
        pthread_cond_signal(&C.wake);
    }
    pthread_mutex_unlock(&C.mu);
    return ok ? 0 : -1;
}

int srv_crawler_running(void)
{
    pthread_mutex_lock(&C.mu);
    int r = C.running || C.requested;
    pthread_mutex_unlock(&C.mu);
    return r;
}
