/*
 * crawler.h - the server's LRU crawler thread (memcached's lru_crawler):
 * frees expired and flushed items in the background with the library's
 * shmc_crawl, a few pages at a time, and runs the crawls that
 * "lru_crawler crawl <ids|all>" asks for.
 *
 * One crawler per server process.  Its counts are the server's own
 * (srv_counter: crawler_reclaimed, crawler_items_checked,
 * lru_crawler_starts), which "stats reset" zeroes; the items it frees
 * also count in the segment's reclaimed.
 */
#ifndef SRV_CRAWLER_H
#define SRV_CRAWLER_H

#include <stdint.h>

#include <shmcached.h>

/* All classes, for srv_crawler_request. */
#define SRV_CRAWL_ALL UINT64_MAX

/*
 * Start the crawler thread over cache.  While *enabled (the daemon's
 * lru_crawler setting, read atomically) it walks the whole segment in
 * the background, pages_per_tick pages every tenth of a second.  0, or -1 with errno if
 * the thread cannot start.
 */
int srv_crawler_start(shmc_cache *cache, const int *enabled, uint32_t pages_per_tick);

/* Stop the thread and wait for it (after its current step). */
void srv_crawler_stop(void);

/*
 * Ask for a whole crawl of the classes in mask (bit i: class i, 1..63;
 * SRV_CRAWL_ALL: every class), run at once in the crawler thread.  0
 * when accepted; -1 if a requested crawl is still running (memcached:
 * "BUSY currently processing crawler request") or there is no thread.
 */
int srv_crawler_request(uint64_t mask);

/* 1 while a requested crawl runs ("stats": lru_crawler_running). */
int srv_crawler_running(void);

#endif
