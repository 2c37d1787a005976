/* Compressed label sets for memory: stored alerts keep their annotations (a summary and a
 * description rendered from a handful of rule templates, ~400 bytes each) zstd-compressed
 * against a dictionary learned from the first sets this process sees, ~10x smaller.
 *
 * Learning: while no dictionary exists, textpack_pack feeds each set it is given to a sample
 * buffer and returns NULL (the caller keeps the set as it is); once the samples reach a
 * threshold the thread that crossed it publishes them as a raw-content dictionary (zstd
 * matches new text against it as if it had just been seen). The dictionary then never
 * changes, so a packed set stays readable for the life of the textpack; sets that do not get
 * smaller are not packed. Annotations from rules that first fire after the dictionary was
 * learned compress less (zstd still finds repeats inside each set).
 *
 * Thread-safe: packing runs on the HTTP threads where alerts are decoded, unpacking wherever
 * an alert is read (API, templates, payloads, the store writer). Per-thread zstd contexts are
 * kept in thread-specific data and freed when the thread exits. */
#ifndef AR_TEXTPACK_H
#define AR_TEXTPACK_H

#include "ar/common.h"
#include "ar/labels.h"

struct textpack;
struct packed_set; /* immutable; owned by whoever packed or duplicated it */

/* sample_bytes: samples gathered before the dictionary is built (0 = default, 32 KiB). */
struct textpack *textpack_new(size_t sample_bytes);
/* Frees the dictionary: every packed_set made with tp must be freed before. NULL is fine. */
void textpack_free(struct textpack *tp);

/* A compressed copy of ls, or NULL when tp is NULL, no dictionary is ready yet, or it would
 * not be smaller. An empty set is never packed. */
struct packed_set *textpack_pack(struct textpack *tp, const struct labelset *ls);

/* Rebuilds the set into out (a packed labelset: labelset_cleanup it). */
void packed_set_unpack(const struct packed_set *p, struct labelset *out);
/* The serialised form, without building a set (for writers that only stream it out):
 * "name\0value\0" pairs in name order, packed_set_raw_len bytes. packed_set_read
 * decompresses them into out (that many bytes) and returns the number of pairs. */
size_t packed_set_raw_len(const struct packed_set *p);
uint32_t packed_set_read(const struct packed_set *p, char *out);
struct packed_set *packed_set_dup(const struct packed_set *p);
/* Same set (compression is deterministic: with one dictionary this compares the blocks). */
bool packed_set_equal(const struct packed_set *a, const struct packed_set *b);
/* Heap bytes of the compressed block. */
size_t packed_set_bytes(const struct packed_set *p);
void packed_set_free(struct packed_set *p); /* accepts NULL */

struct textpack_stats {
    bool ready;         /* the dictionary is built */
    size_t dict_bytes;  /* its size */
    uint64_t packed;    /* sets packed so far */
    uint64_t raw_bytes; /* their serialised size */
    uint64_t zip_bytes; /* their compressed size */
};
void textpack_stats(struct textpack *tp, struct textpack_stats *out);

#endif
