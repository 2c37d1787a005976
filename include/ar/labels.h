/* Label sets: the identity of an alert. A set is an array of name/value pairs sorted by
 * name (byte order) with unique names; both strings are owned by the set (or, for a zipped
 * set, the pairs are one compressed block: see `zipped`). Provides the
 * Alertmanager fingerprint (FNV-1a 64, COMPAT 2.2), the label-set order (COMPAT 2.7)
 * and label name/value validation (COMPAT 3.1). */
#ifndef AR_LABELS_H
#define AR_LABELS_H

#include "ar/common.h"

struct label {
    char *name;
    char *value;
};

struct labelset {
    struct label *v; /* sorted by name, unique */
    uint32_t n;
    uint32_t cap; /* entries allocated; for a packed set, the bytes of its block */
    bool packed;  /* v and every string live in one allocation (see labelset_pack),
                   * except, when pooled, strings held by a string pool */
    bool pooled;  /* packed by labelset_pool */
    bool zipped;  /* v is a compressed block of cap bytes (ar/textpack.h, alert
                   * annotations) and n is 0: copies, frees and labelset_equal (byte
                   * comparison) work on it, lookups see an empty set, mutations abort;
                   * read it with alert_annotations() */
};

void labelset_init(struct labelset *ls);
void labelset_cleanup(struct labelset *ls);
/* Copies name and value; replaces the value when name exists. */
void labelset_set(struct labelset *ls, const char *name, const char *value);
/* Like labelset_set but takes ownership of both heap strings. */
void labelset_set_take(struct labelset *ls, char *name, char *value);
/* Removes name if present. */
void labelset_remove(struct labelset *ls, const char *name);
/* Value for name, or NULL when absent (borrowed). */
const char *labelset_get(const struct labelset *ls, const char *name);
void labelset_dup(struct labelset *dst, const struct labelset *src);
bool labelset_equal(const struct labelset *a, const struct labelset *b);
/* Moves the array and all strings into one allocation: fewer, smaller heap blocks for sets
 * that will not change (stored alerts). Later mutations unpack transparently. */
void labelset_pack(struct labelset *ls);
/* Replaces ls's contents with a packed set built from n pairs in one allocation: sorted by
 * name; when a name repeats the last pair wins (as a JSON object decodes into a Go map). */
void labelset_build_packed(struct labelset *ls, const char *const *names, const char *const *values,
                           size_t n);

struct strpool;
/* Rebuilds ls as one block whose strings point into pool (ar/strpool.h) where the pool
 * holds or admits them (names at once, values once seen with another owner: the alert's
 * fingerprint); the others are copied into the block. Does nothing for a set already
 * pooled. The result may be read, duplicated and freed anywhere while the pool lives. */
void labelset_pool(struct labelset *ls, struct strpool *pool, uint32_t owner);

/* FNV-1a 64 over name 0xFF value 0xFF for each label in name order. */
uint64_t labelset_fingerprint(const struct labelset *ls);
/* Fingerprint of only the labels named in names[0..n) (used for group keys). */
uint64_t labels_fnv1a_init(void);
uint64_t labels_fnv1a_add(uint64_t h, const char *s, size_t n);
/* Prints a fingerprint as 16 lowercase hex digits into out[17]. */
void fingerprint_format(uint64_t fp, char out[17]);
/* Parses 16 hex digits; AR_EINVAL otherwise. */
int fingerprint_parse(const char *s, uint64_t *out);

/* COMPAT 2.7: negative when a sorts before b, 0 when equal, positive after. */
int labelset_compare(const struct labelset *a, const struct labelset *b);

/* Classic label name: ^[a-zA-Z_][a-zA-Z0-9_]*$. */
bool label_name_is_classic(const char *name);
/* Valid UTF-8 (rejects overlongs, surrogates, > U+10FFFF). */
bool utf8_is_valid(const char *s, size_t n);

#endif
