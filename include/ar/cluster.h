/* alertrouter as a cluster of one (COMPAT 1.7, 10, 11). No gossip port is opened; with a
 * --cluster.listen-address (default 0.0.0.0:9094, as Alertmanager) the instance answers
 * what a single Alertmanager answers once settled: status "ready", itself as the only peer
 * (its name and advertise address), the alertmanager_cluster_* gauges of a one-member
 * cluster. --cluster.listen-address="" disables it ("disabled", no peers), as upstream. */
#ifndef AR_CLUSTER_H
#define AR_CLUSTER_H

#include "ar/common.h"

#include <stdint.h>

#define CLUSTER_NAME_LEN 26 /* a ULID */

struct cluster_self {
    bool enabled;
    char name[CLUSTER_NAME_LEN + 1]; /* "" when disabled */
    char address[300];               /* advertise host:port; "" when disabled */
};

/* A ULID: ms is the 48-bit millisecond timestamp, rnd its 80 random bits. */
void cluster_ulid_format(uint64_t ms, const uint8_t rnd[10], char out[CLUSTER_NAME_LEN + 1]);
/* A fresh ULID for now (wall clock, getrandom). */
void cluster_ulid_new(char out[CLUSTER_NAME_LEN + 1]);
/* True for 26 Crockford base-32 characters whose first is 0-7. */
bool cluster_name_valid(const char *s);

/* The address to advertise: --cluster.advertise-address when given (host:port), else the
 * listen address, where an unspecified host (0.0.0.0, ::, empty) becomes this machine's
 * RFC 6890 IPv4 address on the interface with the default route (what Alertmanager's
 * gossip library picks). Writes a sentence into err for an address that is not host:port. */
int cluster_advertise_address(const char *listen, const char *advertise, char *out, size_t cap,
                              struct ar_error *err);

#endif
