/*
 * proto_watch.h - the argument rule of memcached's "watch" command
 * (proto_watch.c; the stream itself is protocol.h's proto_watch_poll).
 */
#ifndef SHMC_SERVER_PROTO_WATCH_H
#define SHMC_SERVER_PROTO_WATCH_H

#include "proto_text_parse.h"

/* A group bit no event has: set for a watch of kinds that stream
 * nothing here, so that such a session still counts as watching. */
#define WATCH_ACCEPTED 0x80000000u

/* The groups "watch <args>" asks for (n arguments; none: fetchers) into
 * *groups; -1 if an argument is no kind memcached knows (ERROR). */
int watch_parse(const text_token *args, size_t n, unsigned *groups);

#endif
