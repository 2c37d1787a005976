/* Unit tests for compressed label sets (ar/textpack.h) and alerts whose annotations are
 * packed: learning, round trips, sizes, equality, sets not worth packing, packing from
 * several threads at once, and the alert accessors (dup, merge, pool with a previous
 * version). */
#include "ar/alert.h"
#include "ar/buf.h"
#include "ar/json_out.h"
#include "ar/labels.h"
#include "ar/strpool.h"
#include "ar/textpack.h"
#include "check.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Annotations as a rule template renders them: mostly the same text, a few values apart. */
static void annotations_of(struct labelset *ls, long i)
{
    char summary[128];
    char desc[512];

    snprintf(summary, sizeof(summary), "Instance 10.0.%ld.%ld:9100 of job node is down",
             (i >> 8) & 255, i & 255);
    snprintf(desc, sizeof(desc),
             "10.0.%ld.%ld:9100 of job node in namespace ns-%ld has been down for more than "
             "5 minutes. Check the node, the kubelet and the network policy; contact team-%ld "
             "if the outage lasts longer than 30 minutes.",
             (i >> 8) & 255, i & 255, i % 97, i % 13);
    labelset_init(ls);
    labelset_set(ls, "summary", summary);
    labelset_set(ls, "description", desc);
    labelset_set(ls, "runbook_url", "https://runbooks.example.com/node/InstanceDown");
}

static size_t serial_bytes(const struct labelset *ls)
{
    size_t n = 0;

    for (size_t i = 0; i < ls->n; i++) {
        n += strlen(ls->v[i].name) + strlen(ls->v[i].value) + 2;
    }
    return n;
}

/* Feeds sets until the dictionary is ready; returns how many it took. */
static long learn(struct textpack *tp, long from)
{
    struct textpack_stats st;
    long i = from;

    for (;; i++) {
        struct labelset ls;
        struct packed_set *p;

        annotations_of(&ls, i);
        p = textpack_pack(tp, &ls);
        labelset_cleanup(&ls);
        textpack_stats(tp, &st);
        if (p != NULL || st.ready || i - from > 100000) {
            packed_set_free(p);
            break;
        }
    }
    return i - from;
}

static void test_learn_and_round_trip(void)
{
    struct textpack *tp = textpack_new(16 * 1024);
    struct textpack_stats st;
    struct labelset ls;
    struct labelset back;
    struct packed_set *p;
    struct packed_set *q;
    long fed;

    annotations_of(&ls, 1);
    CHECK(textpack_pack(NULL, &ls) == NULL);
    CHECK(textpack_pack(tp, &ls) == NULL); /* no dictionary yet: a sample */
    labelset_cleanup(&ls);
    fed = learn(tp, 2);
    textpack_stats(tp, &st);
    CHECK(st.ready);
    CHECK(st.dict_bytes > 0 && st.dict_bytes <= 32 * 1024);
    CHECK(fed > 10 && fed < 200); /* ~16 KiB of ~330-byte sets */

    annotations_of(&ls, 123456);
    p = textpack_pack(tp, &ls);
    CHECK(p != NULL);
    if (p != NULL) {
        /* a templated set shrinks several times over */
        CHECK(packed_set_bytes(p) * 4 < serial_bytes(&ls));
        packed_set_unpack(p, &back);
        CHECK(labelset_equal(&back, &ls));
        CHECK(back.packed);
        CHECK_STR(labelset_get(&back, "runbook_url"),
                  "https://runbooks.example.com/node/InstanceDown");
        labelset_cleanup(&back);
        q = packed_set_dup(p);
        CHECK(packed_set_equal(p, q));
        packed_set_free(q);
        /* the same set packs to the same block; a different one does not compare equal */
        q = textpack_pack(tp, &ls);
        CHECK(q != NULL && packed_set_equal(p, q));
        packed_set_free(q);
        labelset_set(&ls, "summary", "another summary");
        q = textpack_pack(tp, &ls);
        CHECK(q != NULL && !packed_set_equal(p, q));
        packed_set_free(q);
    }
    packed_set_free(p);
    labelset_cleanup(&ls);

    /* not worth it: an empty set, a tiny set */
    labelset_init(&ls);
    CHECK(textpack_pack(tp, &ls) == NULL);
    labelset_set(&ls, "a", "b");
    CHECK(textpack_pack(tp, &ls) == NULL);
    labelset_cleanup(&ls);

    /* unlike text still round-trips (or is left unpacked), never corrupted */
    labelset_init(&ls);
    labelset_set(&ls, "note",
                 "\xc3\xa9t\xc3\xa9 \xe2\x9c\x93 completely unrelated text, "
                 "nothing like the samples at all: 0123456789 qwertyuiop");
    p = textpack_pack(tp, &ls);
    if (p != NULL) {
        packed_set_unpack(p, &back);
        CHECK(labelset_equal(&back, &ls));
        labelset_cleanup(&back);
        packed_set_free(p);
    }
    labelset_cleanup(&ls);
    textpack_stats(tp, &st);
    CHECK(st.packed >= 3);
    CHECK(st.zip_bytes < st.raw_bytes);
    textpack_free(tp);
}

#define RACE_THREADS 4
#define RACE_SETS    2000

struct race {
    struct textpack *tp;
    long base;
    int packed;
    int mismatches;
};

static void *race_main(void *arg)
{
    struct race *r = arg;

    for (long i = 0; i < RACE_SETS; i++) {
        struct labelset ls;
        struct labelset back;
        struct packed_set *p;

        annotations_of(&ls, r->base + i);
        p = textpack_pack(r->tp, &ls);
        if (p != NULL) {
            r->packed++;
            packed_set_unpack(p, &back);
            if (!labelset_equal(&back, &ls)) {
                r->mismatches++;
            }
            labelset_cleanup(&back);
            packed_set_free(p);
        }
        labelset_cleanup(&ls);
    }
    return NULL;
}

/* Threads learning and packing at once (the HTTP threads do): every packed set round-trips
 * and, once the dictionary exists, sets are packed. */
static void test_concurrent(void)
{
    struct textpack *tp = textpack_new(32 * 1024);
    pthread_t th[RACE_THREADS];
    struct race r[RACE_THREADS];
    int packed = 0;

    for (int k = 0; k < RACE_THREADS; k++) {
        r[k] = (struct race){tp, k * 100000L, 0, 0};
        pthread_create(&th[k], NULL, race_main, &r[k]);
    }
    for (int k = 0; k < RACE_THREADS; k++) {
        pthread_join(th[k], NULL);
        CHECK_INT(r[k].mismatches, 0);
        packed += r[k].packed;
    }
    /* sets seen while another thread trained the dictionary stay unpacked; the others
     * are packed, and after the race every set is */
    CHECK(packed > 0);
    {
        struct textpack_stats st;
        struct labelset ls;
        struct packed_set *p;

        textpack_stats(tp, &st);
        CHECK(st.ready);
        annotations_of(&ls, 999999);
        p = textpack_pack(tp, &ls);
        CHECK(p != NULL);
        packed_set_free(p);
        labelset_cleanup(&ls);
    }
    textpack_free(tp);
}

static struct alert *mk_alert(long i)
{
    struct alert *a = alert_new();

    labelset_set(&a->labels, "alertname", "InstanceDown");
    labelset_set(&a->labels, "instance", "10.0.0.1:9100");
    a->fp = labelset_fingerprint(&a->labels);
    labelset_cleanup(&a->annotations);
    annotations_of(&a->annotations, i);
    a->starts_at = 1000;
    a->ends_at = 5000;
    a->updated_at = 1000;
    return a;
}

static void test_alerts(void)
{
    struct textpack *tp = textpack_new(8 * 1024);
    struct strpool *sp = strpool_new(0);
    struct alert *a;
    struct alert *b;
    struct alert *c;
    struct alert *m;
    struct labelset want;
    struct labelset s1;
    const struct labelset *got;

    learn(tp, 0);
    a = mk_alert(42);
    a = alert_pool_fresh(a, sp, tp);
    CHECK(a->annotations.zipped);
    CHECK_INT(a->annotations.n, 0);
    CHECK(labelset_get(&a->annotations, "summary") == NULL); /* opaque until unpacked */
    annotations_of(&want, 42);
    got = alert_annotations(a, &s1);
    CHECK(labelset_equal(got, &want));
    labelset_cleanup(&s1);

    /* streamed as JSON straight from the block: the same bytes as the unpacked set's */
    {
        struct buf j1;
        struct buf j2;

        buf_init(&j1, 0);
        buf_init(&j2, 0);
        CHECK(alert_put_annotations_json(&j1, a) == AR_OK);
        CHECK(json_put_labelset(&j2, &want) == AR_OK);
        CHECK(j1.len == j2.len && j1.len > 100 && memcmp(j1.data, j2.data, j1.len) == 0);
        buf_cleanup(&j1);
        buf_cleanup(&j2);
    }

    /* a copy and a merge carry the packed annotations */
    b = alert_dup(a);
    CHECK(b->annotations.zipped && b->annotations.v != a->annotations.v);
    CHECK(labelset_equal(&b->annotations, &a->annotations)); /* byte comparison */
    CHECK(alert_annotations_equal(a, b));
    m = alert_merge(a, b, 2000);
    CHECK(alert_annotations_equal(m, a));
    got = alert_annotations(m, &s1);
    CHECK(labelset_equal(got, &want));
    labelset_cleanup(&s1);

    /* a re-post pooled against the stored version: equal either way it is stored */
    c = mk_alert(42);
    CHECK(alert_annotations_equal(c, a)); /* plain vs packed */
    alert_pool(c, a, sp, tp);
    CHECK(c->annotations.zipped && labelset_equal(&c->annotations, &a->annotations));
    alert_unref(c);
    c = mk_alert(43);
    CHECK(!alert_annotations_equal(c, a));
    alert_pool(c, a, sp, tp);
    CHECK(c->annotations.zipped && !alert_annotations_equal(c, a));
    CHECK(!labelset_equal(&c->annotations, &a->annotations));
    alert_unref(c);

    /* without a textpack nothing changes: the accessor hands back the alert's own set */
    c = mk_alert(7);
    alert_pool(c, NULL, sp, NULL);
    CHECK(!c->annotations.zipped);
    CHECK(alert_annotations(c, &s1) == &c->annotations);
    labelset_cleanup(&s1);
    {
        char tmp[16];
        char *heap;
        uint32_t n = 0;

        CHECK(alert_annotation_pairs(c, tmp, sizeof(tmp), &heap, &n) == NULL && heap == NULL);
        /* packed, larger than the caller's buffer: a heap block holding every pair */
        const char *pairs = alert_annotation_pairs(a, tmp, sizeof(tmp), &heap, &n);
        CHECK(pairs != NULL && pairs == heap && n == 3);
        if (pairs != NULL) {
            CHECK_STR(pairs, "description");
        }
        free(heap);
    }
    alert_unref(c);

    labelset_cleanup(&want);
    alert_unref(m);
    alert_unref(b);
    alert_unref(a);
    strpool_free(sp);
    textpack_free(tp);
}

int main(void)
{
    test_learn_and_round_trip();
    test_concurrent();
    test_alerts();
    return CHECK_DONE();
}
