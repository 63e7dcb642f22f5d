/*
 * protect.h - memory protection keys for the segment (the "protected" in
 * protected library).
 *
 * In mpk mode the segment's pages carry a protection key whose access is
 * disabled in every thread's PKRU register, except between gate_enter()
 * and gate_leave() of a library call.  The two instructions that write
 * PKRU live in protect_allow() and protect_deny() only; the exit gate
 * checks the value it wrote, so jumping into the middle of a gate grants
 * nothing.  At attach, the process's executable mappings are scanned for
 * other PKRU writers (as ERIM does).  docs/security.md says what this
 * protects against and what it does not.
 */
#ifndef SHMC_PROTECT_H
#define SHMC_PROTECT_H

#include "cache.h"

/* Apply the protection asked for to c's mapping (c->pkey, c->protection,
 * c->pkru_writers).  SHMC_NO_PROTECTION if mpk was asked for and keys are
 * missing; SHMC_UNSAFE_PROCESS if strict and other PKRU writers exist. */
shmc_status protect_setup(shmc_cache *c, shmc_protection want, int strict);

/* Undo protect_setup (before unmapping). */
void protect_teardown(shmc_cache *c);

/* Open / close the calling thread's access to pkey (the gates). */
void protect_allow(int pkey);
void protect_deny(int pkey);

/* Count PKRU-writing instructions (WRPKRU) in the process's executable
 * mappings outside protect_allow/protect_deny; *xrstor receives how many
 * XRSTOR instructions (which can also load PKRU) were seen. */
unsigned protect_scan(unsigned *xrstor);

#endif
