/* Compressed label sets (ar/textpack.h). A set is serialised as "name\0value\0" pairs in
 * name order, which is also the string area of a packed labelset, so unpacking decompresses
 * straight into a labelset block and only fills in the pointers.
 *
 * Frames are plain zstd frames without content size, checksum or dictionary id (the block
 * records the raw length, and its dictionary). The dictionary is published once through an
 * atomic pointer; until then a mutex guards the sample buffer, taken with trylock so decoding
 * threads never wait while another thread learns. */
#include "ar/textpack.h"

#include "ar/log.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#define DEFAULT_SAMPLES (32 * 1024)
#define DICT_MAX        (32 * 1024)
#define ZSTD_LEVEL      1
#define SET_MAX         60000 /* larger sets are kept as they are (lengths are 16-bit) */
#define REGISTRY        255   /* dictionaries alive at once (one per textpack) */

struct textdict {
    ZSTD_CDict *c;
    ZSTD_DDict *d;
    size_t bytes;
    uint64_t serial; /* unique for the process's life, unlike the address */
    uint8_t slot;    /* index in the registry */
};

/* 7 bytes of header: a million packed sets are a million small blocks */
struct packed_set {
    uint16_t raw_len; /* serialised bytes */
    uint16_t zlen;
    uint16_t nlabels;
    uint8_t dict; /* registry slot of the dictionary */
    unsigned char z[];
};

/* Dictionaries by slot, so a block names its dictionary in one byte. Slots are taken and
 * released under registry_mu and read with atomic loads. */
static struct textdict *registry[REGISTRY];
static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t registry_serial;

static bool registry_add(struct textdict *d)
{
    bool ok = false;

    pthread_mutex_lock(&registry_mu);
    for (int i = 0; i < REGISTRY && !ok; i++) {
        if (registry[i] == NULL) {
            d->slot = (uint8_t)i;
            d->serial = ++registry_serial;
            __atomic_store_n(&registry[i], d, __ATOMIC_RELEASE);
            ok = true;
        }
    }
    pthread_mutex_unlock(&registry_mu);
    return ok;
}

static void registry_remove(struct textdict *d)
{
    pthread_mutex_lock(&registry_mu);
    __atomic_store_n(&registry[d->slot], NULL, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&registry_mu);
}

struct textpack {
    struct textdict *dict; /* atomic; NULL until learned */
    pthread_mutex_t mu;    /* guards the sample fields */
    char *samples;
    size_t sample_len;
    size_t sample_cap;
    size_t goal;     /* sample bytes that trigger learning */
    size_t last_len; /* length of the newest sample */
    size_t nsets;    /* samples taken */
    bool learned;    /* under mu: no more samples wanted */
    uint64_t packed; /* atomic counters */
    uint64_t raw_bytes;
    uint64_t zip_bytes;
};

/* ---- per-thread zstd contexts ---------------------------------------------------------- */

struct tls_ctx {
    ZSTD_CCtx *cc;
    uint64_t cc_serial; /* serial of the dictionary cc references, 0 for none */
    ZSTD_DCtx *dc;
};

static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;

static void tls_free(void *p)
{
    struct tls_ctx *t = p;

    ZSTD_freeCCtx(t->cc);
    ZSTD_freeDCtx(t->dc);
    free(t);
}

static void tls_init(void)
{
    pthread_key_create(&tls_key, tls_free);
}

static struct tls_ctx *tls_get(void)
{
    struct tls_ctx *t;

    pthread_once(&tls_once, tls_init);
    t = pthread_getspecific(tls_key);
    if (t == NULL) {
        t = ar_calloc(1, sizeof(*t));
        pthread_setspecific(tls_key, t);
    }
    return t;
}

/* ---- serialisation --------------------------------------------------------------------- */

static size_t serial_len(const struct labelset *ls)
{
    size_t n = 0;

    for (size_t i = 0; i < ls->n; i++) {
        n += strlen(ls->v[i].name) + strlen(ls->v[i].value) + 2;
    }
    return n;
}

static void serialise(const struct labelset *ls, char *out)
{
    for (size_t i = 0; i < ls->n; i++) {
        size_t nl = strlen(ls->v[i].name) + 1;
        size_t vl = strlen(ls->v[i].value) + 1;

        memcpy(out, ls->v[i].name, nl);
        out += nl;
        memcpy(out, ls->v[i].value, vl);
        out += vl;
    }
}

/* ---- learning -------------------------------------------------------------------------- */

static struct textdict *dict_build(const void *content, size_t len)
{
    struct textdict *d = ar_calloc(1, sizeof(*d));

    d->c = ZSTD_createCDict(content, len, ZSTD_LEVEL);
    d->d = ZSTD_createDDict(content, len);
    d->bytes = len;
    if (d->c == NULL || d->d == NULL) {
        ZSTD_freeCDict(d->c);
        ZSTD_freeDDict(d->d);
        free(d);
        return NULL;
    }
    return d;
}

static void dict_free(struct textdict *d)
{
    if (d != NULL) {
        ZSTD_freeCDict(d->c);
        ZSTD_freeDDict(d->d);
        free(d);
    }
}

/* Called under mu with the samples complete: builds and publishes the dictionary. The newest
 * DICT_MAX bytes of samples serve as raw content (zstd matches against it like earlier
 * input). Measured on templated annotations (bench/loadgen.c's): 429 bytes -> 44 with raw
 * content, 57 with a zdict-trained dictionary of the same samples. */
static void learn(struct textpack *tp)
{
    size_t len = DICT_MAX < tp->sample_len ? DICT_MAX : tp->sample_len;
    struct textdict *d = dict_build(tp->samples + tp->sample_len - len, len);
    size_t nsets = tp->nsets;

    tp->learned = true;
    free(tp->samples);
    tp->samples = NULL;
    if (d != NULL && !registry_add(d)) {
        dict_free(d);
        d = NULL;
    }
    if (d == NULL) {
        log_warn("textpack", "could not build the annotation dictionary; annotations stay "
                             "uncompressed");
        return;
    }
    log_info("textpack", "annotation dictionary ready (%zu bytes from %zu sets)", len, nsets);
    __atomic_store_n(&tp->dict, d, __ATOMIC_RELEASE);
}

static void sample(struct textpack *tp, const char *ser, size_t len)
{
    if (pthread_mutex_trylock(&tp->mu) != 0) {
        return; /* another thread samples or learns: skipping one sample is harmless */
    }
    /* a set equal to the previous sample (a re-post) adds nothing */
    if (!tp->learned && !(len == tp->last_len && tp->sample_len >= len &&
                          memcmp(tp->samples + tp->sample_len - len, ser, len) == 0)) {
        if (tp->sample_len + len > tp->sample_cap) {
            size_t cap = tp->sample_cap * 2 > tp->sample_len + len ? tp->sample_cap * 2
                                                                   : tp->sample_len + len;
            tp->samples = ar_realloc(tp->samples, cap);
            tp->sample_cap = cap;
        }
        memcpy(tp->samples + tp->sample_len, ser, len);
        tp->sample_len += len;
        tp->last_len = len;
        tp->nsets++;
        if (tp->sample_len >= tp->goal) {
            learn(tp);
        }
    }
    pthread_mutex_unlock(&tp->mu);
}

/* ---- public ------------------------------------------------------------------------------ */

struct textpack *textpack_new(size_t sample_bytes)
{
    struct textpack *tp = ar_calloc(1, sizeof(*tp));

    pthread_mutex_init(&tp->mu, NULL);
    tp->goal = sample_bytes ? sample_bytes : DEFAULT_SAMPLES;
    return tp;
}

void textpack_free(struct textpack *tp)
{
    struct tls_ctx *t;

    if (tp == NULL) {
        return;
    }
    /* the calling thread's compression context may reference this dictionary (other
     * threads' contexts notice the serial change before they use theirs again) */
    pthread_once(&tls_once, tls_init);
    t = pthread_getspecific(tls_key);
    if (t != NULL && tp->dict != NULL && t->cc_serial == tp->dict->serial) {
        ZSTD_freeCCtx(t->cc);
        t->cc = NULL;
        t->cc_serial = 0;
    }
    if (tp->dict != NULL) {
        registry_remove(tp->dict);
    }
    dict_free(tp->dict);
    free(tp->samples);
    pthread_mutex_destroy(&tp->mu);
    free(tp);
}

struct packed_set *textpack_pack(struct textpack *tp, const struct labelset *ls)
{
    struct textdict *d;
    struct tls_ctx *t;
    struct packed_set *p;
    char stackbuf[2048];
    char *ser;
    size_t len;
    size_t bound;
    size_t z;

    if (tp == NULL || ls->n == 0) {
        return NULL;
    }
    len = serial_len(ls);
    if (len > SET_MAX) {
        return NULL;
    }
    ser = len <= sizeof(stackbuf) ? stackbuf : ar_malloc(len);
    serialise(ls, ser);
    d = __atomic_load_n(&tp->dict, __ATOMIC_ACQUIRE);
    if (d == NULL) {
        sample(tp, ser, len);
        if (ser != stackbuf) {
            free(ser);
        }
        return NULL;
    }
    t = tls_get();
    if (t->cc == NULL || t->cc_serial != d->serial) {
        ZSTD_freeCCtx(t->cc);
        t->cc = ZSTD_createCCtx();
        t->cc_serial = d->serial;
        if (t->cc == NULL || ZSTD_isError(ZSTD_CCtx_refCDict(t->cc, d->c)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(t->cc, ZSTD_c_contentSizeFlag, 0)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(t->cc, ZSTD_c_checksumFlag, 0)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(t->cc, ZSTD_c_dictIDFlag, 0))) {
            ZSTD_freeCCtx(t->cc);
            t->cc = NULL;
            t->cc_serial = 0;
            if (ser != stackbuf) {
                free(ser);
            }
            return NULL;
        }
    }
    bound = ZSTD_compressBound(len);
    p = ar_malloc(sizeof(*p) + bound);
    z = ZSTD_compress2(t->cc, p->z, bound, ser, len);
    if (ser != stackbuf) {
        free(ser);
    }
    /* not worth it unless the block (header included) is smaller than the set's strings */
    if (ZSTD_isError(z) || sizeof(*p) + z >= len) {
        free(p);
        return NULL;
    }
    p = ar_realloc(p, sizeof(*p) + z);
    p->dict = d->slot;
    p->raw_len = (uint16_t)len;
    p->nlabels = (uint16_t)ls->n;
    p->zlen = (uint16_t)z;
    __atomic_add_fetch(&tp->packed, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&tp->raw_bytes, len, __ATOMIC_RELAXED);
    __atomic_add_fetch(&tp->zip_bytes, z, __ATOMIC_RELAXED);
    return p;
}

/* Decompresses p's serialised pairs into s (p->raw_len bytes). */
static void decompress(const struct packed_set *p, char *s)
{
    struct tls_ctx *t = tls_get();
    const struct textdict *d;
    size_t got;

    if (t->dc == NULL) {
        t->dc = ZSTD_createDCtx();
        if (t->dc == NULL) {
            log_error("textpack", "out of memory (zstd context)");
            abort();
        }
    }
    d = __atomic_load_n(&registry[p->dict], __ATOMIC_ACQUIRE);
    if (d == NULL) {
        log_error("textpack", "packed label set outlived its dictionary");
        abort();
    }
    got = ZSTD_decompress_usingDDict(t->dc, s, p->raw_len, p->z, p->zlen, d->d);
    if (ZSTD_isError(got) || got != p->raw_len) {
        /* blocks are made and read by this process only: this is memory corruption */
        log_error("textpack", "corrupt packed label set: %s",
                  ZSTD_isError(got) ? ZSTD_getErrorName(got) : "length mismatch");
        abort();
    }
}

size_t packed_set_raw_len(const struct packed_set *p)
{
    return p->raw_len;
}

uint32_t packed_set_read(const struct packed_set *p, char *out)
{
    decompress(p, out);
    return p->nlabels;
}

void packed_set_unpack(const struct packed_set *p, struct labelset *out)
{
    struct label *v;
    char *s;

    labelset_init(out);
    v = ar_malloc(p->nlabels * sizeof(*v) + p->raw_len);
    s = (char *)(v + p->nlabels);
    decompress(p, s);
    for (uint32_t i = 0; i < p->nlabels; i++) {
        v[i].name = s;
        s += strlen(s) + 1;
        v[i].value = s;
        s += strlen(s) + 1;
    }
    out->v = v;
    out->n = p->nlabels;
    out->cap = (uint32_t)(p->nlabels * sizeof(*v) + p->raw_len);
    out->packed = true;
}

struct packed_set *packed_set_dup(const struct packed_set *p)
{
    size_t n = sizeof(*p) + p->zlen;
    struct packed_set *c = ar_malloc(n);

    memcpy(c, p, n);
    return c;
}

bool packed_set_equal(const struct packed_set *a, const struct packed_set *b)
{
    struct labelset sa;
    struct labelset sb;
    bool eq;

    if (a->raw_len != b->raw_len || a->nlabels != b->nlabels) {
        return false;
    }
    if (a->dict == b->dict) {
        return a->zlen == b->zlen && memcmp(a->z, b->z, a->zlen) == 0;
    }
    packed_set_unpack(a, &sa);
    packed_set_unpack(b, &sb);
    eq = labelset_equal(&sa, &sb);
    labelset_cleanup(&sa);
    labelset_cleanup(&sb);
    return eq;
}

size_t packed_set_bytes(const struct packed_set *p)
{
    return sizeof(*p) + p->zlen;
}

void packed_set_free(struct packed_set *p)
{
    free(p);
}

void textpack_stats(struct textpack *tp, struct textpack_stats *out)
{
    struct textdict *d = __atomic_load_n(&tp->dict, __ATOMIC_ACQUIRE);

    memset(out, 0, sizeof(*out));
    out->ready = d != NULL;
    out->dict_bytes = d ? d->bytes : 0;
    out->packed = __atomic_load_n(&tp->packed, __ATOMIC_RELAXED);
    out->raw_bytes = __atomic_load_n(&tp->raw_bytes, __ATOMIC_RELAXED);
    out->zip_bytes = __atomic_load_n(&tp->zip_bytes, __ATOMIC_RELAXED);
}
