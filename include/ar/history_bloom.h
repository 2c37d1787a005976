/* The Bloom filter of a history block's label pairs (history_blocks.labels_bloom,
 * migrations/0011_history_queries.sql): shared by the writer (store.c) and the readers
 * (store_history.c, api_history.c), below both. */
#ifndef AR_HISTORY_BLOOM_H
#define AR_HISTORY_BLOOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The Bloom filter of a block's label pairs (history_blocks.labels_bloom): the writer adds
 * the pair hash of every label of every event; a reader with an equality matcher skips the
 * block when its pair is absent. Sized by the number of pairs added (8 bits each, a power
 * of two from 8 to 2,048 bytes), 3 probes. */
uint64_t history_pair_hash(const char *name, const char *value);
size_t history_bloom_bytes(size_t npairs);
void history_bloom_add(unsigned char *bloom, size_t bytes, uint64_t h);
bool history_bloom_has(const unsigned char *bloom, size_t bytes, uint64_t h);

#endif
