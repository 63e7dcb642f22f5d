/*
 * vdso.c - finding a function in the kernel's vDSO (vdso.h).
 *
 * The vDSO is a small ELF shared object the kernel maps into every
 * process; getauxval(AT_SYSINFO_EHDR) gives its header.  Its dynamic
 * section names its symbol table, string table and SysV hash table (the
 * kernel links it with both hash styles; the hash table's second word is
 * the number of symbols).  Nothing here is called with the key open.
 */
#include "vdso.h"

#include <elf.h>
#include <link.h>
#include <string.h>
#include <sys/auxv.h>

/* Where the vDSO's dynamic tables lie, or false if it has none usable. */
typedef struct vdso_tables {
    const ElfW(Sym) *syms; /* dynamic symbol table */
    const char *strs;      /* its string table */
    size_t nsyms;          /* symbols in it (the hash table's nchain) */
    uintptr_t bias;        /* added to a symbol's value: its address */
} vdso_tables;

static bool vdso_tables_find(vdso_tables *t)
{
    const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)getauxval(AT_SYSINFO_EHDR);
    if (!eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
        return false;
    const ElfW(Phdr) *ph = (const ElfW(Phdr) *)((const char *)eh + eh->e_phoff);
    const ElfW(Dyn) *dyn = NULL;
    bool loaded = false;
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type == PT_LOAD && !loaded) {
            t->bias = (uintptr_t)eh + ph[i].p_offset - ph[i].p_vaddr;
            loaded = true;
        } else if (ph[i].p_type == PT_DYNAMIC) {
            dyn = (const ElfW(Dyn) *)((const char *)eh + ph[i].p_offset);
        }
    }
    if (!loaded || !dyn)
        return false;
    const uint32_t *hash = NULL;
    t->syms = NULL;
    t->strs = NULL;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        uintptr_t at = dyn->d_un.d_ptr + t->bias;
        if (dyn->d_tag == DT_SYMTAB)
            t->syms = (const ElfW(Sym) *)at;
        else if (dyn->d_tag == DT_STRTAB)
            t->strs = (const char *)at;
        else if (dyn->d_tag == DT_HASH)
            hash = (const uint32_t *)at;
    }
    if (!t->syms || !t->strs || !hash)
        return false;
    t->nsyms = hash[1];
    return true;
}

void *vdso_find(const char *name)
{
    vdso_tables t = {0};
    if (!vdso_tables_find(&t))
        return NULL;
    for (size_t i = 0; i < t.nsyms; i++) {
        const ElfW(Sym) *s = &t.syms[i];
        if (ELF64_ST_TYPE(s->st_info) == STT_FUNC && s->st_shndx != SHN_UNDEF &&
            strcmp(t.strs + s->st_name, name) == 0)
            return (void *)(s->st_value + t.bias);
    }
    return NULL;
}
