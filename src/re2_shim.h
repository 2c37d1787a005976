/* The C face of RE2 (src/re2_shim.cc), used only by regex.c: RE2 is C++, and this is the one
 * place the project compiles C++. Patterns given here are already checked and rendered by
 * regex.c; RE2 only compiles and runs them. */
#ifndef AR_RE2_SHIM_H
#define AR_RE2_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ar_re2;

enum ar_re2_status {
    AR_RE2_OK = 0,
    AR_RE2_TOO_LARGE, /* the program exceeds max_mem_bytes */
    AR_RE2_BAD,       /* any other RE2 error (a rendering bug: regex.c checked the syntax) */
};

/* Compiles pattern[0..len) (UTF-8, RE2 syntax, parentheses never capture). max_mem_bytes
 * bounds the compiled program and the DFA caches together. On success *out owns the
 * compiled regex; on AR_RE2_BAD *msg (if not NULL) is RE2's message in a static buffer. */
enum ar_re2_status ar_re2_new(const char *pattern, size_t len, int64_t max_mem_bytes,
                              struct ar_re2 **out, const char **msg);
/* Unanchored search (the pattern carries its own anchors), linear in n. Thread-safe. */
bool ar_re2_search(const struct ar_re2 *re, const char *s, size_t n);
void ar_re2_free(struct ar_re2 *re);

#ifdef __cplusplus
}
#endif

#endif
