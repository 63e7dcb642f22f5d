/*
 * ctl.h - what shmcachectl's command files share: the exit statuses and
 * the command-line and error helpers of shmcachectl.c, so that a command
 * in another file (ctl_stream.c: dump, watch) reports errors the same way.
 */
#ifndef SHMC_CTL_H
#define SHMC_CTL_H

#include <stdint.h>

#include "shmcached.h"

#define PROG "shmcachectl"

/** Exit statuses (see the top of shmcachectl.c). */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_RECOVERABLE = 3, EXIT_BUSY = 4 };

/** A bad command line: one line on stderr, a hint, exit 2. */
_Noreturn void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** getopt_long's complaint about argv (cmd: the command) as a usage error. */
_Noreturn void option_error(const char *cmd, int c, char **argv);

/** Between min and max arguments, or a usage error naming the command. */
void need_args(const char *cmd, int argc, int min, int max);

/** An unsigned decimal up to max, or a usage error naming what it is. */
uint64_t parse_u64(const char *s, uint64_t max, const char *what);

/** A library error "shmcachectl: what: <why>; <hint>" on stderr; EXIT_FAIL. */
int lib_error(const char *what, shmc_status st, int saved_errno);

/** Attach the segment; on failure report it and return NULL. */
shmc_cache *open_segment(const char *path);

/** Close the handle and pass the exit status through. */
int finish(shmc_cache *cache, int status);

/** The commands of ctl_stream.c. */
int cmd_dump(const char *path, int argc, char **argv);
int cmd_watch(const char *path, int argc, char **argv);

#endif
