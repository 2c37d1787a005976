/* alertrouter as a one-member cluster (ar/cluster.h): peer names and advertise addresses. */
#include "ar/cluster.h"

#include "ar/clock.h"
#include "ar/log.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

void cluster_ulid_format(uint64_t ms, const uint8_t rnd[10], char out[CLUSTER_NAME_LEN + 1])
{
    uint8_t v[16];

    for (int i = 0; i < 6; i++) {
        v[i] = (uint8_t)(ms >> (8 * (5 - i)));
    }
    memcpy(v + 6, rnd, 10);
    /* 128 bits in 26 characters of 5 bits: the first character carries the top 3 bits */
    for (int c = 0; c < CLUSTER_NAME_LEN; c++) {
        unsigned x = 0;
        for (int k = 0; k < 5; k++) {
            int bit = c * 5 + k - 2; /* bit index into v, MSB first; < 0: padding */
            x <<= 1;
            if (bit >= 0) {
                x |= (v[bit / 8] >> (7 - bit % 8)) & 1u;
            }
        }
        out[c] = crockford[x];
    }
    out[CLUSTER_NAME_LEN] = '\0';
}

void cluster_ulid_new(char out[CLUSTER_NAME_LEN + 1])
{
    uint8_t rnd[10];
    size_t got = 0;

    while (got < sizeof(rnd)) {
        ssize_t n = getrandom(rnd + got, sizeof(rnd) - got, 0);
        if (n <= 0) {
            /* no entropy source: still unique enough with the clock */
            uint64_t t = (uint64_t)clock_monotonic_ns() ^ (uint64_t)clock_now_ns();
            for (; got < sizeof(rnd); got++) {
                rnd[got] = (uint8_t)(t >> (8 * (got % 8)));
            }
            break;
        }
        got += (size_t)n;
    }
    cluster_ulid_format((uint64_t)(clock_now_ns() / 1000000), rnd, out);
}

bool cluster_name_valid(const char *s)
{
    if (strlen(s) != CLUSTER_NAME_LEN || s[0] < '0' || s[0] > '7') {
        return false;
    }
    return strspn(s, crockford) == CLUSTER_NAME_LEN;
}

/* host and port of "host:port" or "[v6]:port"; false if it is not of that form. */
static bool split_host_port(const char *addr, char *host, size_t hcap, long *port)
{
    const char *port_s;
    char *end;

    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');
        if (close == NULL || close[1] != ':') {
            return false;
        }
        snprintf(host, hcap, "%.*s", (int)(close - addr - 1), addr + 1);
        port_s = close + 2;
    } else {
        const char *colon = strrchr(addr, ':');
        if (colon == NULL || memchr(addr, ':', (size_t)(colon - addr)) != NULL) {
            return false; /* no port, or an unbracketed IPv6 address */
        }
        snprintf(host, hcap, "%.*s", (int)(colon - addr), addr);
        port_s = colon + 1;
    }
    *port = strtol(port_s, &end, 10);
    return *port_s != '\0' && *end == '\0' && *port >= 0 && *port <= 65535;
}

/* RFC 6890's special-purpose IPv4 blocks (private, shared, documentation, benchmarking,
 * link-local ...), as the gossip library's "private IP" test uses them. */
static bool is_rfc6890(uint32_t a)
{
    static const struct {
        uint32_t net;
        int bits;
    } blocks[] = {
        {0x00000000, 8},  {0x0A000000, 8},  {0x64400000, 10}, {0x7F000000, 8},  {0xA9FE0000, 16},
        {0xAC100000, 12}, {0xC0000000, 24}, {0xC0000200, 24}, {0xC0586300, 24}, {0xC0A80000, 16},
        {0xC6120000, 15}, {0xC6336400, 24}, {0xCB007100, 24}, {0xF0000000, 4},  {0xFFFFFFFF, 32},
    };

    for (size_t i = 0; i < AR_ARRAY_LEN(blocks); i++) {
        uint32_t mask = blocks[i].bits == 0 ? 0 : ~0u << (32 - blocks[i].bits);
        if ((a & mask) == blocks[i].net) {
            return true;
        }
    }
    return false;
}

/* Name of the interface holding the IPv4 default route, from /proc/net/route. */
static bool default_route_iface(char *out, size_t cap)
{
    FILE *f = fopen("/proc/net/route", "r");
    char line[512];
    bool found = false;

    if (f == NULL) {
        return false;
    }
    while (!found && fgets(line, sizeof(line), f) != NULL) {
        char ifname[IF_NAMESIZE + 1];
        unsigned long dest;
        unsigned long mask;
        if (sscanf(line, "%16s %lx %*x %*x %*d %*d %*d %lx", ifname, &dest, &mask) == 3 &&
            dest == 0 && mask == 0) {
            snprintf(out, cap, "%s", ifname);
            found = true;
        }
    }
    fclose(f);
    return found;
}

/* This machine's "private" IPv4 address: on the default-route interface, RFC 6890. */
static bool private_ipv4(char *out, size_t cap)
{
    struct ifaddrs *ifs = NULL;
    char iface[IF_NAMESIZE + 1];
    bool found = false;

    if (!default_route_iface(iface, sizeof(iface)) || getifaddrs(&ifs) != 0) {
        return false;
    }
    for (struct ifaddrs *i = ifs; i != NULL && !found; i = i->ifa_next) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)i->ifa_addr;
        if (in == NULL || in->sin_family != AF_INET || strcmp(i->ifa_name, iface) != 0) {
            continue;
        }
        if (is_rfc6890(ntohl(in->sin_addr.s_addr))) {
            found = inet_ntop(AF_INET, &in->sin_addr, out, (socklen_t)cap) != NULL;
        }
    }
    freeifaddrs(ifs);
    return found;
}

int cluster_advertise_address(const char *listen, const char *advertise, char *out, size_t cap,
                              struct ar_error *err)
{
    char host[256];
    char ip[INET_ADDRSTRLEN];
    long port;

    if (!split_host_port(listen, host, sizeof(host), &port)) {
        ar_error_set(err, "invalid --cluster.listen-address %s: want host:port", listen);
        return AR_EINVAL;
    }
    if (advertise != NULL && advertise[0] != '\0') {
        char ahost[256];
        long aport;
        if (!split_host_port(advertise, ahost, sizeof(ahost), &aport)) {
            ar_error_set(err, "invalid --cluster.advertise-address %s: want host:port", advertise);
            return AR_EINVAL;
        }
        snprintf(out, cap, "%s", advertise);
        return AR_OK;
    }
    if (host[0] != '\0' && strcmp(host, "0.0.0.0") != 0 && strcmp(host, "::") != 0) {
        snprintf(out, cap, "%s", listen);
        return AR_OK;
    }
    if (!private_ipv4(ip, sizeof(ip))) {
        /* Alertmanager refuses to start here; alertrouter opens no gossip port, so the
         * address is only shown: say so and show the listen address. */
        log_warn("cluster",
                 "no private IP address found to advertise for %s; set "
                 "--cluster.advertise-address",
                 listen);
        snprintf(out, cap, "%s", listen);
        return AR_OK;
    }
    snprintf(out, cap, "%s:%ld", ip, port);
    return AR_OK;
}
