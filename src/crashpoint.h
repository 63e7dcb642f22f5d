/*
 * crashpoint.h - named places inside mutations where a test build can kill
 * the process, to prove recovery from a death at exactly that step.
 *
 * In normal builds CRASH_POINT() is nothing.  Built with
 * -DSHMC_CRASH_POINTS (the test library libshmcached_crash.a), each point
 * counts its hits, and the process sends itself SIGKILL (or another
 * signal: crashpoint_arm_signal) at the point named by crashpoint_arm()
 * once it has been passed `skip` times.
 */
#ifndef SHMC_CRASHPOINT_H
#define SHMC_CRASHPOINT_H

#ifdef SHMC_CRASH_POINTS
void crashpoint_hit(const char *name);
#define CRASH_POINT(name) crashpoint_hit(name)
#else
#define CRASH_POINT(name) ((void)0)
#endif

/* Test-build API (defined only with SHMC_CRASH_POINTS). */
#ifdef SHMC_CRASH_POINTS
/* Every point's name, NULL-terminated. */
extern const char *const crashpoint_names[];
/* Die at point name after passing it skip more times (name NULL: disarm). */
void crashpoint_arm(const char *name, unsigned skip);
/* The same with signal sig instead of SIGKILL: SIGSTOP stops the process
 * at the point (with every lock it holds there), once. */
void crashpoint_arm_signal(const char *name, unsigned skip, int sig);
/* How often point name was passed in this process. */
unsigned long crashpoint_hits(const char *name);
#endif

#endif
