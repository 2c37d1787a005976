/* The Bloom filter of a history block's label pairs (ar/history_bloom.h). */
#include "ar/history_bloom.h"

#include "ar/labels.h"

#include <string.h>

uint64_t history_pair_hash(const char *name, const char *value)
{
    uint64_t h = labels_fnv1a_init();

    h = labels_fnv1a_add(h, name, strlen(name));
    h = labels_fnv1a_add(h, "\xff", 1); /* never inside a UTF-8 name or value */
    return labels_fnv1a_add(h, value, strlen(value));
}

size_t history_bloom_bytes(size_t npairs)
{
    size_t bytes = 8;

    while (bytes < npairs && bytes < 2048) {
        bytes *= 2;
    }
    return bytes;
}

/* Probe k of 3 (double hashing over the bits of a power-of-two filter). */
static size_t probe(uint64_t h, int k, size_t bytes)
{
    uint64_t h1 = h & 0xffffffffu;
    uint64_t h2 = (h >> 32) | 1;

    return (size_t)((h1 + (uint64_t)k * h2) & (bytes * 8 - 1));
}

void history_bloom_add(unsigned char *bloom, size_t bytes, uint64_t h)
{
    for (int k = 0; k < 3; k++) {
        size_t bit = probe(h, k, bytes);
        bloom[bit / 8] |= (unsigned char)(1u << (bit % 8));
    }
}

bool history_bloom_has(const unsigned char *bloom, size_t bytes, uint64_t h)
{
    for (int k = 0; k < 3; k++) {
        size_t bit = probe(h, k, bytes);
        if (!(bloom[bit / 8] & (1u << (bit % 8)))) {
            return false;
        }
    }
    return true;
}
