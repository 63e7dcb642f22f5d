/*
 * shmcached.h - the public API of libshmcached.
 *
 * libshmcached is memcached's cache as a library: the cache lives in one
 * shared-memory segment (a file, by default under /dev/shm) that any number
 * of processes attach, each with any number of threads.  A get or a set is
 * a function call that runs the cache code in the caller's thread on the
 * shared segment; there is no server and no message.  Every process sees
 * every other process's writes at once.
 *
 * The data model is memcached's (doc/protocol.txt of memcached):
 *  - keys are 1..250 bytes, of any value (as memcached accepts them; the
 *    text protocol itself cannot carry spaces or newlines in a key);
 *  - values are of any bytes, as long as key + value + the item header
 *    (shmc_item_overhead()) fit in item_size_max (default 1 MiB): at most
 *    1,048,527 bytes with a 1-byte key at the default;
 *  - each item carries 32-bit client flags and a 64-bit CAS unique that
 *    changes on every modification;
 *  - expiration times are read as memcached reads them: 0 never expires,
 *    1..2592000 (30 days) is relative to now, larger is an absolute Unix
 *    time, negative means already expired.
 *
 * Rules every call follows:
 *  - No pointer into the segment is ever returned: values are copied into
 *    memory the caller gives (or, for *_alloc calls, memory malloc'd for
 *    the caller).
 *  - Every call returns a shmc_status.  SHMC_OK is 0; every other value is
 *    a documented outcome or error, and shmc_strerror() describes it.
 *  - A handle (shmc_cache) may be used by many threads of one process at
 *    once.  It must not be used after fork() in the child: the child opens
 *    its own handle with shmc_open().  In the child, every call on an
 *    inherited handle returns SHMC_INVALID (shmc_close is accepted).
 *  - Every argument is checked before the segment is touched, and a bad
 *    one gets SHMC_INVALID with nothing changed: a handle that is not a
 *    live one of this process (NULL, closed, forged, inherited); a length
 *    whose range wraps around the address space (for example (size_t)-1
 *    from a failed read()); and any range [p, p + len) of a key, value,
 *    buffer or out-pointer that overlaps the library's own memory - an
 *    attached segment, the library's protected state, or the stack below
 *    the call's own entry (where the library's frames are).  Caller memory
 *    a pointer names is read once, so another thread changing it during
 *    the call cannot make a checked argument unchecked.  Beyond that a
 *    caller must pass memory it owns: an unmapped buffer faults in the
 *    caller, as it would in memcpy().
 *  - Inside a call the library runs no code the caller supplies: no
 *    callback, and no malloc (shmc_get_alloc allocates before or after).
 *  - A process may die at any instruction, inside or outside a call,
 *    without corrupting the segment or blocking other processes.  See
 *    docs/design.md for how.
 *  - A damaged segment (a file changed behind the library's back) never
 *    crashes or hangs a call: shmc_open refuses a header it cannot trust,
 *    and a call that meets a broken structure stops there and answers
 *    SHMC_CORRUPT (it may have done part of its work).  shmc_corrupt_field()
 *    names what was damaged; shmc_check() describes all of it.
 */
#ifndef SHMCACHED_H
#define SHMCACHED_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Only the calls below are exported from libshmcached.so. */
#pragma GCC visibility push(default)

#define SHMC_VERSION_STRING "0.1.0"

/** Longest key memcached accepts, in bytes. */
#define SHMC_KEY_MAX 250

/** Default segment path used by the tools when none is given. */
#define SHMC_DEFAULT_PATH "/dev/shm/shmcached"

/** Outcomes and errors of every call. */
typedef enum shmc_status {
    SHMC_OK = 0,           /**< success */
    SHMC_NOT_FOUND,        /**< no such key (or it expired / was flushed) */
    SHMC_NOT_STORED,       /**< add: key exists; replace/append/prepend: key missing */
    SHMC_EXISTS,           /**< cas (or delete with cas): the item changed since it was read */
    SHMC_NOT_NUMERIC,      /**< incr/decr: the value is not a decimal 64-bit unsigned number */
    SHMC_TOO_LARGE,        /**< the value is larger than the segment's item_size_max */
    SHMC_BAD_KEY,          /**< key empty or longer than 250 bytes */
    SHMC_NO_MEMORY,        /**< out of memory: nothing could be evicted, or eviction is off */
    SHMC_BUFFER_TOO_SMALL, /**< the caller's buffer is too small; the needed length is reported */
    SHMC_INVALID,          /**< a bad argument (NULL where not allowed, bad config value...) */
    SHMC_NOT_SEGMENT,      /**< the file is not a shmcached segment (bad magic) */
    SHMC_BAD_VERSION,      /**< the segment has another format version */
    SHMC_CORRUPT,          /**< the segment is damaged: truncated or a header field out of
                                range (shmc_open), or a structure found broken during a
                                call (shmc_corrupt_field() names what) */
    SHMC_PERMISSION,       /**< the process may not open or create the segment file */
    SHMC_FILE_EXISTS,      /**< create: a file already exists at that path */
    SHMC_NO_FILE,          /**< open: no file at that path */
    SHMC_TOO_MANY_CLIENTS, /**< the segment's client registry is full */
    SHMC_SYSTEM,           /**< a system call failed; errno tells which */
    SHMC_NO_PROTECTION,    /**< protection "mpk" asked for, but the CPU or kernel lacks
                                memory protection keys (or none is free) */
    SHMC_UNSAFE_PROCESS,   /**< strict protection: code outside the library's gates in
                                this process can write PKRU, so it could open the cache
                                (at attach: such instructions; at a strict lockdown:
                                writable executable mappings) */
    SHMC_BUSY,             /**< busy, and nothing was changed: a lock the call needs is
                                held by a live client past the handle's bound
                                (shmc_options.lock_wait_ms: the owner is stopped or
                                stuck); or the call was made from a signal handler that
                                interrupted a call of the same thread (it would wait
                                for a lock its thread holds); or shmc_destroy_with with
                                SHMC_DESTROY_UNUSED found live clients attached */
    SHMC_STALE,            /**< the segment was destroyed or replaced (shmc_destroy, a
                                server restart): close the handle and open the path again */
    SHMC_STATUS_COUNT      /**< number of codes (not a code) */
} shmc_status;

/** A human-readable, static description of a status code. Never NULL. */
const char *shmc_strerror(shmc_status status);

/**
 * What the calling thread found damaged the last time it met damage in a
 * segment: when shmc_open refused a file with SHMC_CORRUPT, or a call
 * answered SHMC_CORRUPT.  A static string naming the field as the
 * segment's format (src/layout.h) does: "seg_header.hash_word",
 * "slab_class.size", "page map", "item_t.h_next (hash chain)"...  NULL if
 * the thread never met damage; calls that meet none leave it as it is.
 * Safe to call at any time, without a handle.
 */
const char *shmc_corrupt_field(void);

/* ------------------------------------------------------------------ */
/* Creating, attaching and removing segments                           */
/* ------------------------------------------------------------------ */

/** Creation parameters of a segment; fixed for the segment's life. */
typedef struct shmc_config {
    uint64_t mem_bytes;       /**< memory for items (memcached -m); default 64 MiB; at least
                                   two 1 MiB slab pages (2 MiB), at most 16 GiB */
    uint32_t item_size_max;   /**< largest value+key+header (memcached -I); default 1 MiB;
                                   1 KiB .. 128 MiB */
    uint32_t chunk_size_min;  /**< smallest slab chunk's key+value space (memcached -n);
                                   default 48; 8 .. item_size_max / 2 */
    double growth_factor;     /**< slab class chunk size factor (memcached -f); default 1.25;
                                   > 1.0 and <= 100 */
    int no_evict;             /**< 1: return SHMC_NO_MEMORY when full instead of evicting
                                   (memcached -M); default 0 */
    uint32_t hash_power;      /**< log2 of the index's initial bucket count (memcached -o
                                   hashpower); default 16; 10..31 */
    uint32_t max_clients;     /**< size of the attached-client registry; default 256;
                                   1 .. 65535 */
    uint32_t hot_lru_pct;     /**< share of a class's items kept in HOT; default 20; >= 1 */
    uint32_t warm_lru_pct;    /**< share of a class's items kept in WARM; default 40; >= 1;
                                   hot + warm <= 80 */
    int slab_automove;        /**< 1: move pages between classes as sizes shift; default 1 */
    mode_t mode;              /**< file mode of the segment; default 0600 */
    gid_t group;              /**< group of the file, or (gid_t)-1 to keep the default */
} shmc_config;

/** Fill *cfg with the defaults above. */
void shmc_config_init(shmc_config *cfg);

/** A process's handle on one attached segment. Opaque. */
typedef struct shmc_cache shmc_cache;

/**
 * Create a new segment file at path (O_EXCL: never overwrites) with the
 * given configuration (NULL for defaults) and attach it, with the options
 * of shmc_options_init (so SHMC_PROTECTION applies).
 * Errors: SHMC_INVALID (bad config or NULL path/out), SHMC_FILE_EXISTS,
 * SHMC_NO_FILE (the directory does not exist), SHMC_PERMISSION,
 * SHMC_SYSTEM (errno set; e.g. ENOSPC).
 * On error nothing is left at path.
 */
shmc_status shmc_create(const char *path, const shmc_config *cfg, shmc_cache **out);

/** How the segment is protected from the calling process's own code. */
typedef enum shmc_protection {
    SHMC_PROTECT_AUTO = 0, /**< mpk where the CPU and kernel have protection keys, else none */
    SHMC_PROTECT_MPK,      /**< memory protection keys: the segment is readable and writable
                                only inside library calls; attaching fails with
                                SHMC_NO_PROTECTION where keys are missing */
    SHMC_PROTECT_NONE      /**< no protection: any code of the process can reach the segment */
} shmc_protection;

/**
 * Options of shmc_open_with / shmc_create_with.  The protection is the
 * process's: its first successful attach decides it, and the process keeps
 * one protection key for all its handles, never freed (docs/security.md).
 * A later attach asking for SHMC_PROTECT_MPK in a process that runs
 * without keys gets SHMC_NO_PROTECTION; one asking for SHMC_PROTECT_NONE
 * in a process with a key is protected anyway.
 */
typedef struct shmc_options {
    shmc_protection protection; /**< default SHMC_PROTECT_AUTO */
    int strict;                 /**< with mpk: refuse to attach (SHMC_UNSAFE_PROCESS) if
                                     executable code outside the library's gates holds an
                                     instruction that writes PKRU; default 0 (count them:
                                     shmc_stats.pkru_writers) */
    int lock_wait_ms;           /**< how long one call may wait, in all, for locks held by
                                     clients that live (a stopped or stuck one): past it
                                     the call changes nothing and returns SHMC_BUSY.  A
                                     dead owner's lock is taken over whatever the bound.
                                     -1: wait for ever.  Default SHMC_LOCK_WAIT_MS_DEFAULT
                                     (docs/api.md says why) */
} shmc_options;

#define SHMC_LOCK_WAIT_MS_DEFAULT 1000 /**< shmc_options.lock_wait_ms's default */
#define SHMC_LOCK_WAIT_MS_MAX 3600000  /**< its largest value but -1 (an hour) */

/**
 * Fill *opts with the defaults, then apply the environment:
 * SHMC_PROTECTION=auto|mpk|none, SHMC_PROTECTION_STRICT=0|1 and
 * SHMC_LOCK_WAIT_MS=-1|0..SHMC_LOCK_WAIT_MS_MAX.
 * Returns SHMC_INVALID if a variable has another value.
 */
shmc_status shmc_options_init(shmc_options *opts);

/** shmc_create with options (NULL: shmc_options_init's). */
shmc_status shmc_create_with(const char *path, const shmc_config *cfg,
                             const shmc_options *opts, shmc_cache **out);

/** shmc_open with options (NULL: shmc_options_init's).  Extra errors:
 * SHMC_NO_PROTECTION, SHMC_UNSAFE_PROCESS. */
shmc_status shmc_open_with(const char *path, const shmc_options *opts, shmc_cache **out);

/** The protection in effect for a handle (never SHMC_PROTECT_AUTO). */
shmc_protection shmc_protection_of(shmc_cache *cache);

/** "auto", "mpk" or "none". */
const char *shmc_protection_name(shmc_protection p);

/**
 * Close the holes protection keys leave open (docs/security.md, "Lockdown"):
 * install seccomp filters on every thread of the process, inherited by its
 * children, that fail with EPERM:
 *  - any pkey_alloc or pkey_free (recycling the key), and pkey_mprotect
 *    with another key than the process's (re-tagging memory away from the
 *    gate) or over a protected range;
 *  - mmap with MAP_FIXED or MAP_FIXED_NOREPLACE, munmap, mprotect,
 *    madvise, mremap and remap_file_pages whose range overlaps a
 *    protected range (every attached segment, and the library's own
 *    state), and mremap with MREMAP_FIXED whose new range overlaps one;
 *  - process_vm_readv, process_vm_writev, process_madvise, ptrace and
 *    userfaultfd (they ignore protection keys, act on ranges held in
 *    memory, or park a thread inside a call at will);
 *  - mmap and mprotect asking for PROT_EXEC, shmat with SHM_EXEC or
 *    SHM_REMAP, and personality setting READ_IMPLIES_EXEC (new code after
 *    the attach-time scan);
 *  - every system call of another ABI, and every x32 call number.
 * Irreversible.  Call it after attaching every handle the process needs:
 * later attaches work (in mpk mode pkey_mprotect stays allowed with the
 * process's own key only, off the protected ranges), each stacking filters
 * over its own segment; dlopen, JIT compilers, userfaultfd and debuggers
 * started from the process fail.  A
 * handle closed after the lockdown leaves its mapping in place.
 * Called before any attach, it decides the process's protection as none.
 * Equivalent to shmc_lockdown_with(NULL, NULL).
 * Returns SHMC_OK, or SHMC_SYSTEM (errno from prctl or seccomp; filters
 * installed before the one that failed stay).
 */
shmc_status shmc_lockdown(void);

/** Options of shmc_lockdown_with; all zero gives shmc_lockdown's behaviour. */
typedef struct shmc_lockdown_options {
    int strict;         /**< 1: if any mapping of the process is both writable and
                             executable, install nothing and return
                             SHMC_UNSAFE_PROCESS; 0 (default): count them */
    int close_proc_mem; /**< 1: also enforce a Landlock ruleset that refuses every
                             open for writing beneath /proc (so /proc/<pid>/mem),
                             and allows it everywhere else; 0 (default): do not */
    int no_sigreturn;   /**< 1: kill the process (SIGSYS) on rt_sigreturn, the return
                             from a signal handler, which loads PKRU from a frame the
                             handler can edit (docs/security.md).  Only for programs
                             whose signal handlers never return: glibc's own setxid
                             and cancellation handlers return too.  0 (default) */
} shmc_lockdown_options;

/** What shmc_lockdown_with found and did. */
typedef struct shmc_lockdown_report {
    unsigned wx_mappings; /**< mappings both writable and executable at the call
                               (1 if /proc/self/maps could not be read) */
    unsigned ranges;      /**< address ranges the filters protect (attached
                               segments and the library's own state); 0 if none
                               was installed */
    int landlock_abi;     /**< with close_proc_mem: the kernel's Landlock ABI version,
                               0 if it has no Landlock (then nothing is enforced) */
    int landlock;         /**< 1: the ruleset is enforced on the calling thread and on
                               the threads and processes it creates from now on */
    int sigreturn_closed; /**< 1: no_sigreturn is in force */
    int proc_mem_closed;  /**< 1: no thread of the process and no child can open a
                               /proc/<pid>/mem file for writing any more.  0: it stays
                               open, because close_proc_mem was 0, or the kernel has
                               no Landlock, or other threads existed (a ruleset binds
                               only the thread that enforces it: lock down before
                               creating threads), or a proc file system is mounted
                               outside /proc, or a mem file was already open for
                               writing */
} shmc_lockdown_report;

/**
 * shmc_lockdown with options (NULL: the defaults) and a report (NULL: not
 * wanted; else filled on every return but SHMC_INVALID).  The seccomp
 * part is as shmc_lockdown's; the Landlock part never fails the call:
 * report->proc_mem_closed says whether it closed /proc/<pid>/mem.  With
 * close_proc_mem, writes beneath /proc fail from then on in the calling
 * thread and everything it starts (pthread_setname_np on another thread,
 * oom_score_adj...), and new entries created later directly in the root
 * directory cannot be opened for writing.
 * Returns SHMC_OK; SHMC_INVALID (an option other than 0 or 1);
 * SHMC_UNSAFE_PROCESS (strict, and writable executable mappings exist:
 * nothing installed); SHMC_SYSTEM (as shmc_lockdown).
 */
shmc_status shmc_lockdown_with(const shmc_lockdown_options *opts, shmc_lockdown_report *report);

/**
 * Attach an existing segment, with the options of shmc_options_init (so
 * SHMC_PROTECTION applies).  Repairs whatever processes that died
 * while attached left behind (see docs/design.md), so it also works after
 * every attached process crashed.
 * Errors: SHMC_NO_FILE, SHMC_PERMISSION, SHMC_NOT_SEGMENT (not ours),
 * SHMC_BAD_VERSION, SHMC_CORRUPT (truncated, or a field of the header,
 * the class table, a lock's name or the page map out of range:
 * shmc_corrupt_field() names it), SHMC_TOO_MANY_CLIENTS, SHMC_SYSTEM.  On
 * error the file is not changed.
 */
shmc_status shmc_open(const char *path, shmc_cache **out);

/** Detach: release the client slot and unmap (after shmc_lockdown() the
 * mapping stays, inaccessible, since the lockdown forbids unmapping it).
 * NULL, or any pointer that is not a live handle, is ignored. */
void shmc_close(shmc_cache *cache);

/**
 * Remove the segment file at path after checking it is a shmcached
 * segment (so a typo cannot delete an unrelated file), and mark it
 * retired first: every handle still attached gets SHMC_STALE from its next
 * call (shmc_close still works), so no process keeps reading a cache that
 * nobody else can reach.  The same as shmc_destroy_with(path, 0).
 * Errors: as shmc_open's file errors.
 */
shmc_status shmc_destroy(const char *path);

/** shmc_destroy_with flags. */
#define SHMC_DESTROY_UNUSED 1u /**< refuse (SHMC_BUSY) while a live client is attached */

/**
 * shmc_destroy, with flags (0 or SHMC_DESTROY_UNUSED; others: SHMC_INVALID).
 * With SHMC_DESTROY_UNUSED the call attaches to count the live clients
 * (its own handles in this process count too) and returns SHMC_BUSY,
 * changing nothing, if there are any.
 */
shmc_status shmc_destroy_with(const char *path, unsigned flags);

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

/**
 * Look up key and copy its value into buf.
 *  in:  *len is the capacity of buf (buf may be NULL when *len is 0).
 *  out: *len is the value's length; *flags and *cas (either may be NULL)
 *       the item's client flags and CAS unique.
 * Returns SHMC_OK, SHMC_NOT_FOUND, SHMC_BAD_KEY, SHMC_INVALID, or
 * SHMC_BUFFER_TOO_SMALL (then *len holds the length needed; call again
 * with a larger buffer: that call is the get, so this answer changes
 * nothing (no touch, LRU mark or recache token) and is not counted).  Only SHMC_OK defines buf's bytes: a read copies
 * before it checks that the item did not change meanwhile, so a call that
 * races a replacement or a delete may leave a partial copy in buf before
 * it answers SHMC_BUFFER_TOO_SMALL or SHMC_NOT_FOUND.
 * A hit marks the item recently used.
 */
shmc_status shmc_get(shmc_cache *cache, const void *key, size_t key_len,
                     void *buf, size_t *len, uint32_t *flags, uint64_t *cas);

/**
 * As shmc_get, but into a buffer malloc'd for the caller (*value, to be
 * free()d; never NULL on SHMC_OK, even for an empty value).  malloc runs
 * outside the library's gate: the call learns the length, allocates and
 * reads again if the value grew meanwhile (up to 8 times).
 * Extra error: SHMC_SYSTEM when malloc fails or the value kept growing.
 */
shmc_status shmc_get_alloc(shmc_cache *cache, const void *key, size_t key_len,
                           void **value, size_t *len, uint32_t *flags, uint64_t *cas);

/**
 * Get-and-touch (memcached gat/gats): as shmc_get, and on a hit set the
 * item's expiration time to exptime (memcached rules, see top).
 */
shmc_status shmc_gat(shmc_cache *cache, const void *key, size_t key_len, int64_t exptime,
                     void *buf, size_t *len, uint32_t *flags, uint64_t *cas);

/** What shmc_get_info reports about an item besides its value. */
typedef struct shmc_item_info {
    uint32_t flags;         /**< client flags */
    uint64_t cas;           /**< CAS unique */
    size_t len;             /**< value length */
    int64_t ttl;            /**< seconds until it expires (after a touch: the new TTL);
                                 -1: never expires */
    uint32_t last_access;   /**< seconds since it was last read or written, before this call */
    int fetched;            /**< 1 if it had been read before this call */
    unsigned class_id;      /**< slab class holding it */
    int stale;              /**< 1 if it was invalidated (shmc_invalidate; meta "X") */
    int win;                /**< the recache token: 1 this caller won it (meta "W"),
                                 -1 another caller holds it (meta "Z"), 0 neither */
} shmc_item_info;

/** Flags of shmc_get_options (or'ed). */
#define SHMC_GET_NO_BUMP 0x1u /**< leave the item's LRU position, access time and fetched
                                   bit alone (memcached meta "u"...; a plain read) */
#define SHMC_GET_TOUCH 0x2u   /**< first set its expiration time to exptime (gat) */

/** How shmc_get_info reads. */
typedef struct shmc_get_options {
    unsigned flags;         /**< SHMC_GET_* */
    int64_t exptime;        /**< with SHMC_GET_TOUCH: the new expiration time */
    int64_t recache_below;  /**< > 0: an item whose TTL is below this many seconds hands
                                 the recache token to its first reader (meta "R") */
} shmc_get_options;

/**
 * A get that also reports the item's metadata (memcached's meta commands).
 * opts NULL: a plain get.  len NULL: the value is not copied (buf ignored);
 * else as shmc_get.  info may be NULL.  Returns as shmc_get, or
 * SHMC_INVALID for unknown flags.  Counted as a get, or a gat with
 * SHMC_GET_TOUCH.
 *
 * The recache token (memcached's stale-while-revalidate): an item that is
 * stale, or whose TTL is below recache_below, gives the token to exactly
 * one reader (win 1), and tells every later reader that someone has it
 * (win -1), until the item is replaced.
 */
shmc_status shmc_get_info(shmc_cache *cache, const void *key, size_t key_len,
                          const shmc_get_options *opts, void *buf, size_t *len,
                          shmc_item_info *info);

/**
 * Mark an item stale (memcached "md <key> I"): it stays readable, readers
 * see stale = 1 and the first of them wins the recache token; its CAS
 * changes.  cas_in 0: any item, else SHMC_EXISTS on another CAS.
 * exptime NULL: keep the TTL, else set it.  new_cas: the CAS it takes (0: a
 * fresh one; meta "md I E"; below SHMC_CAS_EXPLICIT_LIMIT, else
 * SHMC_INVALID).  Returns SHMC_OK, SHMC_NOT_FOUND, SHMC_EXISTS, key errors.
 */
shmc_status shmc_invalidate(shmc_cache *cache, const void *key, size_t key_len, uint64_t cas_in,
                            const int64_t *exptime, uint64_t new_cas);

/** One key's request and result in a shmc_get_multi call. */
typedef struct shmc_value {
    const void *key;     /**< in: the key */
    size_t key_len;      /**< in: its length */
    void *buf;           /**< in: where to copy the value */
    size_t cap;          /**< in: capacity of buf */
    size_t len;          /**< out: value length (needed length if too small) */
    uint32_t flags;      /**< out: client flags */
    uint64_t cas;        /**< out: CAS unique */
    shmc_status status;  /**< out: as shmc_get's return value for this key */
} shmc_value;

/**
 * Multi-key get (memcached "get k1 k2 ..."): each entry gets its own
 * status, as shmc_get's (SHMC_INVALID for an entry whose key or buffer is
 * bad).  The whole batch enters the library once (one protection-key gate:
 * much cheaper per key than shmc_get in mpk mode).  Returns SHMC_INVALID if
 * values is NULL with n > 0, if n * sizeof *values overflows, or if the
 * array lies in the library's memory; else SHMC_OK.
 */
shmc_status shmc_get_multi(shmc_cache *cache, shmc_value *values, size_t n);

/* ------------------------------------------------------------------ */
/* Writing                                                             */
/* ------------------------------------------------------------------ */

/** How shmc_store treats an existing item (memcached's storage commands). */
typedef enum shmc_store_mode {
    SHMC_SET,      /**< store unconditionally */
    SHMC_ADD,      /**< only if the key is absent, else SHMC_NOT_STORED */
    SHMC_REPLACE,  /**< only if the key is present, else SHMC_NOT_STORED */
    SHMC_APPEND,   /**< add bytes after the value; flags and exptime are kept */
    SHMC_PREPEND,  /**< add bytes before the value; flags and exptime are kept */
    SHMC_CAS,      /**< only if the item's CAS equals cas_in: else SHMC_EXISTS,
                        or SHMC_NOT_FOUND if the key is absent */
    SHMC_CAS_STALE /**< as SHMC_CAS, but if cas_in is older than the item's CAS the value
                        is stored anyway, marked stale (memcached "ms ... I"); it keeps
                        the item's expiration time (exptime is ignored) and recache
                        token state */
} shmc_store_mode;

/**
 * Store value under key.  flags and exptime are ignored by APPEND and
 * PREPEND; cas_in is used by SHMC_CAS, and by APPEND/PREPEND when non-zero
 * (then the item's CAS must equal it, else SHMC_EXISTS: memcached meta
 * "ms ... MA C<cas>").  On success *cas_out (may be
 * NULL) is the new CAS unique.
 * Returns SHMC_OK, SHMC_NOT_STORED, SHMC_EXISTS, SHMC_NOT_FOUND,
 * SHMC_BAD_KEY, SHMC_TOO_LARGE, SHMC_NO_MEMORY, SHMC_INVALID.
 * A failed store leaves the previous item untouched, except that a SET
 * of a too-large value removes the old item (as memcached does).
 */
shmc_status shmc_store(shmc_cache *cache, shmc_store_mode mode,
                       const void *key, size_t key_len,
                       const void *value, size_t value_len,
                       uint32_t flags, int64_t exptime,
                       uint64_t cas_in, uint64_t *cas_out);

/** Explicit CAS values (the new_cas of the *_ex calls) must be below this. */
#define SHMC_CAS_EXPLICIT_LIMIT (1ull << 63)

/**
 * As shmc_store, but the stored item takes the CAS value new_cas instead of
 * a fresh one (memcached's meta "E"; 0: a fresh one).  CAS values stay
 * unique only if the caller keeps its explicit ones unique; the values the
 * library makes later for the same key are always above it.  new_cas at or
 * above SHMC_CAS_EXPLICIT_LIMIT: SHMC_INVALID.
 */
shmc_status shmc_store_ex(shmc_cache *cache, shmc_store_mode mode,
                          const void *key, size_t key_len,
                          const void *value, size_t value_len,
                          uint32_t flags, int64_t exptime,
                          uint64_t cas_in, uint64_t new_cas, uint64_t *cas_out);

/** One store's request and result in a shmc_store_multi call. */
typedef struct shmc_store_req {
    shmc_store_mode mode;   /**< in: as shmc_store's */
    const void *key;        /**< in: the key */
    size_t key_len;         /**< in: its length */
    const void *value;      /**< in: the value */
    size_t value_len;       /**< in: its length */
    uint32_t flags;         /**< in: client flags */
    int64_t exptime;        /**< in: expiration time */
    uint64_t cas_in;        /**< in: as shmc_store's */
    uint64_t cas;           /**< out: the new CAS unique on success, else 0 */
    shmc_status status;     /**< out: as shmc_store's return value for this entry */
} shmc_store_req;

/**
 * Batched store: each entry as shmc_store, in order, all under one entry
 * into the library (one protection-key gate for the batch: see
 * docs/performance.md).  Each entry gets its own status; an entry whose
 * pointers are bad gets SHMC_INVALID and changes nothing.  Returns
 * SHMC_INVALID (and stores nothing) if reqs is NULL with n > 0, if
 * n * sizeof *reqs overflows, or if the array lies in the library's memory;
 * else SHMC_OK.
 */
shmc_status shmc_store_multi(shmc_cache *cache, shmc_store_req *reqs, size_t n);

/** shmc_store(cache, SHMC_SET, ...) without CAS arguments. */
shmc_status shmc_set(shmc_cache *cache, const void *key, size_t key_len,
                     const void *value, size_t value_len, uint32_t flags, int64_t exptime);

/**
 * Delete key.  cas: 0 deletes whatever is there; non-zero deletes only
 * an item with that CAS unique (SHMC_EXISTS otherwise).
 * Returns SHMC_OK, SHMC_NOT_FOUND, SHMC_EXISTS, SHMC_BAD_KEY.
 */
shmc_status shmc_delete(shmc_cache *cache, const void *key, size_t key_len, uint64_t cas);

/**
 * incr/decr: treat the value as a decimal 64-bit unsigned number and add
 * or subtract delta.  incr wraps at 2^64; decr stops at 0.  The stored
 * value becomes the plain decimal result (memcached may pad a shorter
 * result with spaces; we never do).  The value is read as memcached
 * reads it (strtoull): optional white space and sign, digits, then white
 * space or its end ("007", " 5", "5 x", "-0" are numbers; "1.5", "-1",
 * "" are not; a '-' number is refused only when negating it gives a
 * negative signed 64-bit value, so "-18446744073709551615" is 1).  A
 * result no longer than the old value keeps the item's fetched, stale
 * and recache-token state (memcached rewrites it in place); a longer one
 * is a fresh item.
 * *result (may be NULL) receives the new number.
 * Returns SHMC_OK, SHMC_NOT_FOUND, SHMC_NOT_NUMERIC, SHMC_BAD_KEY,
 * SHMC_NO_MEMORY.
 */
shmc_status shmc_incr(shmc_cache *cache, const void *key, size_t key_len,
                      uint64_t delta, uint64_t *result);
shmc_status shmc_decr(shmc_cache *cache, const void *key, size_t key_len,
                      uint64_t delta, uint64_t *result);

/**
 * incr (incr != 0) or decr with CAS: as shmc_incr/shmc_decr, but only if the
 * item's CAS is cas_in (0: any), else SHMC_EXISTS; *cas_out (may be NULL)
 * receives the new CAS.
 */
shmc_status shmc_arith(shmc_cache *cache, const void *key, size_t key_len, int incr,
                       uint64_t delta, uint64_t cas_in, uint64_t *result, uint64_t *cas_out);

/** As shmc_arith, with an explicit new CAS value (meta "ma E"; 0: a fresh
 * one; below SHMC_CAS_EXPLICIT_LIMIT, else SHMC_INVALID). */
shmc_status shmc_arith_ex(shmc_cache *cache, const void *key, size_t key_len, int incr,
                          uint64_t delta, uint64_t cas_in, uint64_t new_cas, uint64_t *result,
                          uint64_t *cas_out);

/** Set a new expiration time (memcached touch); the CAS is unchanged.
 * Returns SHMC_OK, SHMC_NOT_FOUND, SHMC_BAD_KEY, SHMC_INVALID. */
shmc_status shmc_touch(shmc_cache *cache, const void *key, size_t key_len, int64_t exptime);

/**
 * Invalidate every item (memcached flush_all).  delay 0: now; delay > 0:
 * items not written since are invalid from now + delay seconds (the same
 * exptime rules as items apply to large values).  Shared by every
 * process attached to the segment.  Returns SHMC_OK or SHMC_INVALID.
 */
shmc_status shmc_flush_all(shmc_cache *cache, int64_t delay);

/* ------------------------------------------------------------------ */
/* Listing items                                                       */
/* ------------------------------------------------------------------ */

#define SHMC_DUMP_START 0u          /**< the cursor that starts a walk */
#define SHMC_DUMP_END UINT64_MAX    /**< the cursor once a walk is done */

/** One item of a walk (shmc_dump_next): buf and cap are read, the rest written. */
typedef struct shmc_dump_item {
    void *buf;              /**< in: where to copy the value; NULL: key and metadata only */
    size_t cap;             /**< in: capacity of buf */
    char key[SHMC_KEY_MAX]; /**< out: the key, key_len bytes, not NUL-terminated */
    size_t key_len;         /**< out: 1..SHMC_KEY_MAX */
    size_t len;             /**< out: value length */
    uint32_t flags;         /**< out: client flags */
    uint64_t cas;           /**< out: CAS unique */
    int64_t exptime;        /**< out: Unix time it expires; 0: never */
    int64_t last_access;    /**< out: Unix time it was last read or written */
    size_t size;            /**< out: bytes it takes: header, key and value */
    unsigned class_id;      /**< out: slab class holding it */
    int fetched;            /**< out: 1 if it was read since it was stored */
    int stale;              /**< out: 1 if it was invalidated (shmc_invalidate) */
    shmc_status status;     /**< out: SHMC_OK, or SHMC_BUFFER_TOO_SMALL: buf was given but
                                 is smaller than len, the value was not copied */
} shmc_dump_item;

/**
 * Walk every item of the cache (memcached's lru_crawler metadump): one
 * call fills up to n entries of items, in memory order, and advances
 * *cursor; start with *cursor = SHMC_DUMP_START and call again until
 * *cursor is SHMC_DUMP_END.  *got (required) receives the entries filled.
 * A call visits a bounded number of chunks, so it may fill none before
 * the end (keep going).  Each item is copied under its key's lock, so its
 * key, metadata and value belong together; nothing is changed (no LRU
 * bump; expired and flushed items are not returned, nor unlinked).  No
 * code of the caller runs inside the call: the caller does what it wants
 * with the batch between calls.
 *
 * Consistency: an item that stays stored, unchanged, for the whole walk
 * is returned exactly once.  An item stored, replaced, touched or deleted
 * during the walk may be returned once, or not at all, and a key replaced
 * during the walk may be returned twice (old and new values: compare
 * cas); an item evicted (or moved out by a page move, which evicts) is
 * not returned if the walk had not reached it.  So a dump of a live cache
 * is what a reader at each item's moment saw, and a migration that
 * replays it gets every item that was not changed meanwhile.
 *
 * Returns SHMC_OK (*got and *cursor written); SHMC_BUSY: a live client
 * held a key's lock past the handle's bound: the entries found before it
 * are in *got and *cursor resumes at that item (call again);
 * SHMC_CORRUPT: a damaged item was met and skipped (*got and *cursor
 * written as for SHMC_OK); SHMC_INVALID: a NULL or library pointer,
 * n * sizeof *items overflowing, or a cursor that is no position of this
 * segment's walk (only SHMC_DUMP_START, SHMC_DUMP_END and cursors
 * returned by this call on this segment are): nothing is written; or an
 * entry whose buf is not caller memory (buf NULL with cap 0 is fine): the
 * batch stops there, with *got and *cursor written for the entries
 * before it.
 */
shmc_status shmc_dump_next(shmc_cache *cache, uint64_t *cursor, shmc_dump_item *items, size_t n,
                           size_t *got);

/* ------------------------------------------------------------------ */
/* Watching events                                                     */
/* ------------------------------------------------------------------ */

/** What an event records (shmc_event.kind). */
typedef enum shmc_event_kind {
    SHMC_EV_GET = 1,    /**< a get (shmc_get, _info, _multi, _alloc, gat: op 1): status
                             SHMC_OK (found) or SHMC_NOT_FOUND; a size probe that
                             answered SHMC_BUFFER_TOO_SMALL is not an event */
    SHMC_EV_STORE,      /**< a store: op is its shmc_store_mode, status its outcome */
    SHMC_EV_DELETE,     /**< a delete (op 0) or an invalidate (op 1) */
    SHMC_EV_ARITH,      /**< incr (op 1) or decr (op 0) */
    SHMC_EV_TOUCH,      /**< a touch */
    SHMC_EV_EVICT,      /**< a live item removed to make room (by any client's store) */
} shmc_event_kind;

/** Groups of kinds, as memcached's "watch" names them (shmc_event_group). */
#define SHMC_WATCH_FETCHERS 0x1u  /**< SHMC_EV_GET */
#define SHMC_WATCH_MUTATIONS 0x2u /**< SHMC_EV_STORE, _DELETE, _ARITH, _TOUCH */
#define SHMC_WATCH_EVICTIONS 0x4u /**< SHMC_EV_EVICT */

/** The SHMC_WATCH_* group of an event kind (0 for an unknown kind). */
unsigned shmc_event_group(unsigned kind);

/** One event (shmc_watch_next). */
typedef struct shmc_event {
    uint64_t seq;           /**< its position in the segment's stream */
    unsigned kind;          /**< shmc_event_kind */
    shmc_status status;     /**< the call's outcome (SHMC_OK for an eviction) */
    unsigned op;            /**< per kind: see shmc_event_kind */
    uint32_t client;        /**< client slot of the process that made the call */
    uint32_t pid;           /**< that process's pid (in its pid namespace) */
    int64_t time_sec;       /**< when: Unix time, seconds */
    uint32_t time_usec;     /**< and microseconds (the coarse clock: a few ms steps) */
    int64_t ttl;            /**< seconds to live after it; -1: never expires (stores:
                                 from the call's exptime; misses: -1) */
    unsigned class_id;      /**< slab class of the item (0: none, e.g. a miss) */
    size_t len;             /**< value length (a miss: 0) */
    int fetched;            /**< evictions: 1 if the item had been read */
    int64_t last_access;    /**< evictions: Unix time of its last access; else 0 */
    size_t key_len;         /**< 1..SHMC_KEY_MAX */
    char key[SHMC_KEY_MAX]; /**< the key, not NUL-terminated */
} shmc_event;

/**
 * Start watching: from now on every call of every process attached to
 * the segment records an event in the segment's ring (a fixed ring of
 * 1024 events; without a watcher calls record nothing and pay one
 * branch).  *cursor receives the position of the next event, for
 * shmc_watch_next.  Watches nest (one per call); shmc_watch_stop ends
 * one, shmc_close all of this handle's, and a watcher that dies is
 * forgotten when it is reaped (shmc_recover, or the next attach).
 * SHMC_OK, SHMC_INVALID (bad handle or cursor pointer).
 */
shmc_status shmc_watch_start(shmc_cache *cache, uint64_t *cursor);

/** End one watch of this handle.  SHMC_OK; SHMC_NOT_FOUND if it had none. */
shmc_status shmc_watch_stop(shmc_cache *cache);

/**
 * Read events from *cursor into events (up to n); *got receives how many,
 * *cursor moves past them, and *skipped (may be NULL) grows by the events
 * that could not be read: overwritten because the reader fell more than
 * the ring's size behind, or left half-written by a writer that died or
 * stalled (memcached's watch says "skipped=N").  Never waits for new
 * events (got 0: none yet; poll again) and runs no caller code.  Events
 * are in the order their writers claimed positions.  Returns SHMC_OK;
 * SHMC_INVALID for a NULL or library pointer, n * sizeof *events
 * overflowing, or a cursor ahead of the stream (nothing written).
 */
shmc_status shmc_watch_next(shmc_cache *cache, uint64_t *cursor, shmc_event *events, size_t n,
                            size_t *got, uint64_t *skipped);

/* ------------------------------------------------------------------ */
/* Statistics, maintenance, checking                                   */
/* ------------------------------------------------------------------ */

/** Whole-cache statistics, under memcached's names. */
typedef struct shmc_stats {
    uint64_t curr_items;        /**< items stored now */
    uint64_t total_items;       /**< items ever stored */
    uint64_t bytes;             /**< bytes used by stored items (headers included) */
    uint64_t limit_maxbytes;    /**< memory budget for items */
    uint64_t get_hits, get_misses, get_expired, get_flushed;
    uint64_t cmd_get, cmd_set, cmd_touch, cmd_flush;
    uint64_t delete_hits, delete_misses;
    uint64_t incr_hits, incr_misses, decr_hits, decr_misses;
    uint64_t cas_hits, cas_misses, cas_badval;
    uint64_t touch_hits, touch_misses;
    uint64_t evictions;         /**< live items removed to make room */
    uint64_t expired_unfetched; /**< expired items reclaimed that were never read */
    uint64_t evicted_unfetched; /**< evicted items that were never read */
    uint64_t reclaimed;         /**< times an expired item's memory was reused */
    uint64_t slabs_moved;       /**< pages moved between classes */
    /** Slab pages in all, and those not given to a class yet.  The classes
     * may hold the memory limit's pages (mem_bytes / 1 MiB); a class that
     * has none takes its first page even past it, as memcached's -m, so
     * total_pages may exceed the limit by up to one page per class (then
     * free_pages is 0). */
    uint64_t total_pages, free_pages;
    uint64_t hash_power_level;  /**< log2 of the index's bucket count (rounded down) */
    uint64_t hash_buckets;      /**< buckets in the index now */
    uint64_t curr_clients;      /**< clients attached now that are alive */
    uint64_t dead_clients;      /**< clients that died attached and are not reaped yet
                                     (shmcachectl recover, or the next attach or sweep) */
    uint64_t clients_recovered; /**< dead clients whose state was reclaimed */
    uint64_t locks_repaired;    /**< locks taken over from a dead owner and repaired */
    uint64_t protection;        /**< this handle's shmc_protection (SHMC_PROTECT_MPK/_NONE) */
    uint64_t pkru_writers;      /**< PKRU-writing instructions found outside the library's
                                     gates when this handle attached (mpk only) */
    uint64_t uptime;            /**< seconds since the segment was created */
    uint64_t time;              /**< the segment's clock (Unix time) */
} shmc_stats;

/** Fill *out.  SHMC_OK or SHMC_INVALID. */
shmc_status shmc_stats_get(shmc_cache *cache, shmc_stats *out);

/** Per slab class statistics (memcached "stats slabs" / "stats items"). */
typedef struct shmc_class_stats {
    uint32_t chunk_size;        /**< bytes per chunk */
    uint32_t chunks_per_page;
    uint64_t total_pages;
    uint64_t used_chunks, free_chunks;
    uint64_t curr_items;        /**< number (memcached "stats items" number) */
    uint64_t hot, warm, cold;   /**< items in each LRU segment */
    uint64_t bytes;             /**< bytes of items held */
    uint64_t evictions, reclaimed, expired_unfetched, evicted_unfetched;
    uint64_t outofmemory;       /**< stores refused for want of memory (SHMC_NO_MEMORY) */
    uint64_t oldest_age;        /**< seconds since the COLD tail was last used */
    uint64_t temp;              /**< items in the TEMP LRU (shmc_set_temp_lru) */
} shmc_class_stats;

/** Number of slab classes of the segment (ids are 1..n). */
unsigned shmc_class_count(shmc_cache *cache);

/** Fill *out for class id 1..shmc_class_count().  SHMC_INVALID otherwise. */
shmc_status shmc_class_stats_get(shmc_cache *cache, unsigned class_id, shmc_class_stats *out);

/** The segment's creation parameters (as stored in its header).
 * SHMC_OK, or SHMC_INVALID if an argument is NULL. */
shmc_status shmc_config_get(shmc_cache *cache, shmc_config *out);

/** Which segment a handle attached: the file and the creation (shmc_segment_identity). */
typedef struct shmc_segment_id {
    uint64_t dev;     /**< st_dev of the segment file when the handle attached it */
    uint64_t ino;     /**< st_ino of that file */
    int64_t created;  /**< Unix time the segment was created (from its header) */
} shmc_segment_id;

/**
 * The identity of the segment a handle attached, for telling whether two
 * processes share the same one (a server publishes it in its "stats" as
 * segment_id dev:ino:created, and the libmemcached preload compares it with
 * what it attached itself).  A file replaced at the same path has another
 * inode or creation time; a segment destroyed since answers SHMC_STALE.
 * SHMC_OK, SHMC_INVALID (bad handle or out), SHMC_STALE.
 */
shmc_status shmc_segment_identity(shmc_cache *cache, shmc_segment_id *out);

/**
 * Run one step of background maintenance now: reclaim expired items from
 * LRU tails, balance HOT/WARM/COLD, move a slab page if automove wants
 * one, and reap clients that died.  Calls run such steps amortized on
 * their own, so no daemon is needed; this is for tools and tests.
 * SHMC_OK, SHMC_INVALID if cache is NULL, or SHMC_CORRUPT if it met a
 * damaged structure (shmc_corrupt_field).
 */
shmc_status shmc_maintain(shmc_cache *cache);

/** What shmc_crawl did. */
typedef struct shmc_crawl_result {
    uint64_t checked;           /**< linked items looked at */
    uint64_t reclaimed;         /**< dead (expired or flushed) items freed */
    uint64_t busy;              /**< dead items left for a later crawl: a lock was held
                                     past the handle's lock-wait bound */
    uint32_t next_page;         /**< the page to pass next to go on; 0 once the walk is done */
} shmc_crawl_result;

/**
 * memcached's LRU crawler: free the memory of every dead item (expired,
 * or hidden by flush_all) of class class_id (0: of every class), at once,
 * where calls and shmc_maintain free it only when it reaches an LRU tail.
 * It walks the segment's page map from page number page on, at most
 * max_pages pages (0: to the end), so a long walk can be cut into calls
 * that each hold no lock for long: pass out->next_page to the next call.
 * Freed items count in the statistics' reclaimed.  *out is filled (its
 * counts are this call's).
 * SHMC_OK; SHMC_INVALID if cache or out is NULL, class_id is past
 * shmc_class_count() or page past the segment's pages; SHMC_CORRUPT if it
 * met a damaged structure; SHMC_STALE as every call.
 */
shmc_status shmc_crawl(shmc_cache *cache, unsigned class_id, uint32_t page, uint32_t max_pages,
                       shmc_crawl_result *out);

/**
 * memcached's "slabs reassign": move one slab page from class src to
 * class dst, evicting the items it holds (a class's pages otherwise
 * move only when a class runs out of memory and automove is on).  src
 * -1 takes the page that costs least (free chunks, dead items, else the
 * least recently used); dst 0 gives the page back to the pool, where any
 * class under the memory limit may take it.
 * SHMC_OK; SHMC_INVALID if cache is NULL, src is not -1 or 1..n, dst not
 * 0..n (n: shmc_class_count()), or src == dst; SHMC_NO_MEMORY if src has
 * fewer than two pages (memcached's NOSPARE: a class keeps its last);
 * SHMC_BUSY if the page holds an item being changed or a client's chunk,
 * or a lock was held past the bound: nothing moved, try again.
 */
shmc_status shmc_slabs_reassign(shmc_cache *cache, int src, unsigned dst);

/**
 * memcached's "cache_memlimit": set the memory the slab classes may hold
 * to bytes (rounded down to 1 MiB pages; shmc_stats.limit_maxbytes
 * shows it).  Lowering it takes effect for every class at once: none
 * grows past it (but for its first page, as at creation), and
 * maintenance steps (calls, shmc_maintain) move pages back to the pool,
 * evicting their items, until the classes hold what they held less the
 * drop (first pages taken past the limit stay), or a page each.  The pages stay in the segment's file: every process maps it
 * whole, so it never shrinks, and it cannot grow either.
 * SHMC_OK; SHMC_INVALID if cache is NULL, bytes is under 2 MiB or above
 * the segment's mem_bytes (shmc_config_get); SHMC_BUSY past the bound.
 */
shmc_status shmc_set_memlimit(shmc_cache *cache, uint64_t bytes);

/**
 * memcached's TEMP LRU (its -o temporary_ttl): from now on, items stored
 * with a TTL of at most ttl seconds go to a list of their own in their
 * class, where they are never moved, bumped or evicted, only reclaimed
 * once they expire; so short-lived items do not push longer-lived ones
 * out.  0 turns it off (items already in TEMP stay there).  For every
 * process attached (a setting of the segment).  shmc_class_stats.temp
 * counts them.  SHMC_OK, or SHMC_INVALID if cache is NULL.
 */
shmc_status shmc_set_temp_lru(shmc_cache *cache, uint32_t ttl);

/**
 * Walk the whole segment and verify every invariant: the header, class
 * table, locks' names and page map as shmc_open checks them, hash chains,
 * LRU links, free lists, slab page accounting, item counters, client
 * slots.  A damaged segment is reported, never followed out of bounds or
 * round a cycle.  Blocks writers while it runs; gives up, counting one
 * problem ("busy"), if a live client holds a lock past the handle's
 * bound.  Describes each problem found on out
 * (may be NULL; written once the check is done, outside the library) and
 * returns the number of problems (0 = consistent); 1 without checking if
 * cache is not a live handle, if out lies in the library's memory, or if
 * memory for the check cannot be had.
 */
unsigned shmc_check(shmc_cache *cache, FILE *out);

/** What shmc_check_with found. */
typedef struct shmc_check_report {
    unsigned problems;            /**< inconsistencies (as shmc_check returns) */
    unsigned recoverable_chunks;  /**< chunks held by clients that died and are not reaped
                                       yet: not a problem; shmc_recover frees them */
    unsigned busy;                /**< 1: a live client held a lock past the handle's bound
                                       (shmc_options.lock_wait_ms), so nothing was checked;
                                       problems is then 1 */
} shmc_check_report;

/**
 * shmc_check, also telling apart what a dead client still holds
 * (recoverable, a normal state until the next reap) from corruption.
 * report (may be NULL) is filled unless the check could not run (then 1 is
 * returned, as by shmc_check).  Returns the number of problems.
 */
unsigned shmc_check_with(shmc_cache *cache, FILE *out, shmc_check_report *report);

/**
 * Detect clients that died while attached and reclaim what they held
 * (shmcachectl recover).  *reaped (may be NULL) receives how many.
 * SHMC_OK, SHMC_INVALID if cache is NULL, or SHMC_CORRUPT if it met a
 * damaged structure (then *reaped is not written).
 */
shmc_status shmc_recover(shmc_cache *cache, unsigned *reaped);

/**
 * Test hook, public on purpose (docs/api.md): move the segment's clock by
 * seconds, for every attached process.  Lets tests drive expiry without
 * sleeping; not for production.
 * SHMC_OK, or SHMC_INVALID if cache is NULL.
 */
shmc_status shmc_clock_advance(shmc_cache *cache, int64_t seconds);

/** Per-item memory overhead in bytes beyond key and value (the item header). */
size_t shmc_item_overhead(void);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif /* SHMCACHED_H */
