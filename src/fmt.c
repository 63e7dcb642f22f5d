/*
 * fmt.c - text formatting with the protection key open (see fmt.h): the
 * few printf conversions the library's own messages use, written by its
 * own loops.
 */
#include "fmt.h"

size_t fmt_u64(uint64_t v, char *out)
{
    char rev[FMT_U64_MAX];
    size_t n = 0;
    do {
        rev[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = rev[n - 1 - i];
    return n;
}

/* The text being written: dst, its capacity (one byte kept for the NUL)
 * and the length so far. */
typedef struct fmt_out {
    char *dst;
    size_t cap;
    size_t len;
} fmt_out;

static void put_bytes(fmt_out *o, const char *p, size_t n)
{
    for (size_t i = 0; i < n && o->len + 1 < o->cap; i++)
        o->dst[o->len++] = p[i];
}

static void put_signed(fmt_out *o, int64_t v)
{
    char digits[FMT_U64_MAX];
    if (v < 0)
        put_bytes(o, "-", 1);
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    put_bytes(o, digits, fmt_u64(u, digits));
}

static void put_unsigned(fmt_out *o, uint64_t v)
{
    char digits[FMT_U64_MAX];
    put_bytes(o, digits, fmt_u64(v, digits));
}

/* A string, at most max bytes of it (SIZE_MAX: up to its NUL). */
static void put_string(fmt_out *o, const char *s, size_t max)
{
    if (!s)
        s = "(null)";
    size_t n = 0;
    while (n < max && s[n])
        n++;
    put_bytes(o, s, n);
}

/* The conversion at *p (after its '%'), its argument taken from ap;
 * *p moved past it.  False if it is not one of fmt.h's. */
static bool put_conversion(fmt_out *o, const char **p, va_list *ap)
{
    const char *f = *p;
    if (f[0] == '%') {
        put_bytes(o, "%", 1);
        *p = f + 1;
    } else if (f[0] == 'u') {
        put_unsigned(o, va_arg(*ap, unsigned));
        *p = f + 1;
    } else if (f[0] == 'd') {
        put_signed(o, va_arg(*ap, int));
        *p = f + 1;
    } else if (f[0] == 'l' && f[1] == 'u') {
        put_unsigned(o, va_arg(*ap, unsigned long));
        *p = f + 2;
    } else if (f[0] == 'l' && f[1] == 'l' && f[2] == 'u') {
        put_unsigned(o, va_arg(*ap, unsigned long long));
        *p = f + 3;
    } else if (f[0] == 'z' && f[1] == 'u') {
        put_unsigned(o, va_arg(*ap, size_t));
        *p = f + 2;
    } else if (f[0] == 's') {
        put_string(o, va_arg(*ap, const char *), SIZE_MAX);
        *p = f + 1;
    } else if (f[0] == '.' && f[1] == '*' && f[2] == 's') {
        int max = va_arg(*ap, int);
        put_string(o, va_arg(*ap, const char *), max < 0 ? SIZE_MAX : (size_t)max);
        *p = f + 3;
    } else {
        return false;
    }
    return true;
}

size_t fmt_vformat(char *dst, size_t cap, const char *fmt, va_list ap)
{
    fmt_out o = {dst, cap, 0};
    va_list args;
    va_copy(args, ap);
    for (const char *p = fmt; *p;) {
        if (*p != '%') {
            put_bytes(&o, p++, 1);
            continue;
        }
        p++;
        if (!put_conversion(&o, &p, &args)) {
            put_bytes(&o, "?", 1);
            break;
        }
    }
    va_end(args);
    dst[o.len] = '\0';
    return o.len;
}
