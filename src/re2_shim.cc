/* RE2 behind the small C interface of re2_shim.h. The only C++ in the project: it owns RE2
 * objects and keeps C++ exceptions from crossing into C (an allocation failure aborts, as
 * ar_malloc does). */
#include "re2_shim.h"

#include <re2/re2.h>

#include <cstdio>
#include <cstdlib>
#include <new>

struct ar_re2 {
    re2::RE2 re;
    ar_re2(const re2::StringPiece &p, const re2::RE2::Options &o) : re(p, o)
    {
    }
};

extern "C" enum ar_re2_status ar_re2_new(const char *pattern, size_t len, int64_t max_mem_bytes,
                                         struct ar_re2 **out, const char **msg)
{
    static thread_local char last[256];
    re2::RE2::Options opt;
    struct ar_re2 *r;

    opt.set_log_errors(false);
    opt.set_never_capture(true);
    opt.set_max_mem(max_mem_bytes);
    try {
        r = new ar_re2(re2::StringPiece(pattern, len), opt);
    } catch (const std::bad_alloc &) {
        std::fputs("alertrouter: out of memory compiling a regex\n", stderr);
        std::abort();
    }
    if (r->re.ok()) {
        *out = r;
        return AR_RE2_OK;
    }
    enum ar_re2_status st =
        r->re.error_code() == re2::RE2::ErrorPatternTooLarge ? AR_RE2_TOO_LARGE : AR_RE2_BAD;
    std::snprintf(last, sizeof(last), "%s", r->re.error().c_str());
    if (msg != nullptr) {
        *msg = last;
    }
    delete r;
    return st;
}

extern "C" bool ar_re2_search(const struct ar_re2 *r, const char *s, size_t n)
{
    try {
        return re2::RE2::PartialMatch(re2::StringPiece(s, n), r->re);
    } catch (const std::bad_alloc &) {
        std::fputs("alertrouter: out of memory matching a regex\n", stderr);
        std::abort();
    }
}

extern "C" void ar_re2_free(struct ar_re2 *r)
{
    delete r;
}
