/* Unit tests for the cluster of one: ULID peer names (the ULID specification's published
 * example timestamp, the extremes), the name kept in the instance table across reopenings,
 * advertise addresses, and the HTTP histograms' bucketing. */
#include "ar/cluster.h"
#include "ar/http_metrics.h"
#include "ar/store.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_ulid(void)
{
    uint8_t zero[10] = {0};
    uint8_t ones[10];
    char out[CLUSTER_NAME_LEN + 1];
    char again[CLUSTER_NAME_LEN + 1];

    memset(ones, 0xff, sizeof(ones));
    cluster_ulid_format(0, zero, out);
    CHECK_STR(out, "00000000000000000000000000");
    cluster_ulid_format(0xFFFFFFFFFFFFull, ones, out);
    CHECK_STR(out, "7ZZZZZZZZZZZZZZZZZZZZZZZZZ");
    /* the specification's example: 1469918176385 ms encodes as 01ARYZ6S41 */
    cluster_ulid_format(1469918176385ull, ones, out);
    CHECK(strncmp(out, "01ARYZ6S41", 10) == 0);
    CHECK_STR(out + 10, "ZZZZZZZZZZZZZZZZ");
    CHECK(cluster_name_valid(out));
    CHECK(!cluster_name_valid("8ZZZZZZZZZZZZZZZZZZZZZZZZZ")); /* above 2^128 */
    CHECK(!cluster_name_valid("01ARYZ6S41ZZZZZZZZZZZZZZZI")); /* I is not Crockford */
    CHECK(!cluster_name_valid("01ARYZ6S41"));
    cluster_ulid_new(out);
    cluster_ulid_new(again);
    CHECK(cluster_name_valid(out));
    CHECK(strcmp(out, again) != 0);
}

static void test_name_kept(void)
{
    char dir[] = "/tmp/ar-cluster-test-XXXXXX";
    struct store *st = NULL;
    struct ar_error err;
    char name[CLUSTER_NAME_LEN + 1];
    char cmd[128];

    CHECK(mkdtemp(dir) != NULL);
    CHECK_INT(store_open(dir, &st, &err), AR_OK);
    CHECK_INT(store_instance_get_or_put(st, "peer_name", "01AAAAAAAAAAAAAAAAAAAAAAAA", name,
                                        sizeof(name)),
              AR_OK);
    CHECK_STR(name, "01AAAAAAAAAAAAAAAAAAAAAAAA");
    store_close(st);
    st = NULL;
    CHECK_INT(store_open(dir, &st, &err), AR_OK);
    /* a second start proposes another name; the first one stays */
    CHECK_INT(store_instance_get_or_put(st, "peer_name", "01BBBBBBBBBBBBBBBBBBBBBBBB", name,
                                        sizeof(name)),
              AR_OK);
    CHECK_STR(name, "01AAAAAAAAAAAAAAAAAAAAAAAA");
    store_close(st);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

static void test_advertise(void)
{
    char out[300];
    struct ar_error err;

    CHECK_INT(cluster_advertise_address("127.0.0.1:9094", "", out, sizeof(out), &err), AR_OK);
    CHECK_STR(out, "127.0.0.1:9094");
    CHECK_INT(cluster_advertise_address("0.0.0.0:9094", "10.1.2.3:7946", out, sizeof(out), &err),
              AR_OK);
    CHECK_STR(out, "10.1.2.3:7946");
    CHECK_INT(cluster_advertise_address("[::1]:9094", NULL, out, sizeof(out), &err), AR_OK);
    CHECK_STR(out, "[::1]:9094");
    /* unspecified host: some address on port 9094, never 0.0.0.0 itself unless nothing fits */
    CHECK_INT(cluster_advertise_address("0.0.0.0:9094", "", out, sizeof(out), &err), AR_OK);
    CHECK(strlen(out) > 5 && strcmp(out + strlen(out) - 5, ":9094") == 0);
    CHECK_INT(cluster_advertise_address("9094", "", out, sizeof(out), &err), AR_EINVAL);
    CHECK(strstr(err.msg, "--cluster.listen-address") != NULL);
    CHECK_INT(cluster_advertise_address("127.0.0.1:99999", "", out, sizeof(out), &err), AR_EINVAL);
    CHECK_INT(cluster_advertise_address("127.0.0.1:9094", "nohost", out, sizeof(out), &err),
              AR_EINVAL);
    CHECK(strstr(err.msg, "--cluster.advertise-address") != NULL);
}

static void test_http_buckets(void)
{
    static const char *const names[] = {"", "/b", "/a"};
    struct http_metrics *m = http_metrics_new(names, 3);
    struct buf b;

    buf_init(&b, 0);
    http_metrics_observe(m, 1, HTTP_M_GET, 50000000, 100);           /* exactly on both bounds */
    http_metrics_observe(m, 1, HTTP_M_GET, 50000001, 101);           /* just above */
    http_metrics_observe(m, 2, HTTP_M_POST, 61000000000, 200000000); /* above every bound */
    http_metrics_observe(m, 0, HTTP_M_GET, 1, 1);                    /* route 0: not observed */
    http_metrics_observe(m, 3, HTTP_M_GET, 1, 1);                    /* out of range: ignored */
    http_metrics_write(m, &b);
    CHECK(strstr(buf_str(&b), "alertmanager_http_request_duration_seconds_bucket{handler=\"/b\","
                              "method=\"get\",le=\"0.05\"} 1\n") != NULL);
    CHECK(strstr(buf_str(&b), "alertmanager_http_request_duration_seconds_bucket{handler=\"/b\","
                              "method=\"get\",le=\"0.1\"} 2\n") != NULL);
    CHECK(strstr(buf_str(&b), "alertmanager_http_response_size_bytes_bucket{handler=\"/b\","
                              "method=\"get\",le=\"100\"} 1\n") != NULL);
    CHECK(strstr(buf_str(&b), "alertmanager_http_response_size_bytes_sum{handler=\"/b\","
                              "method=\"get\"} 201\n") != NULL);
    CHECK(strstr(buf_str(&b), "alertmanager_http_request_duration_seconds_bucket{handler=\"/a\","
                              "method=\"post\",le=\"60\"} 0\n") != NULL);
    CHECK(strstr(buf_str(&b), "alertmanager_http_request_duration_seconds_count{handler=\"/a\","
                              "method=\"post\"} 1\n") != NULL);
    CHECK(strstr(buf_str(&b), "method=\"delete\"") == NULL); /* unobserved series absent */
    /* sorted by handler name: /a before /b */
    CHECK(strstr(buf_str(&b), "handler=\"/a\"") < strstr(buf_str(&b), "handler=\"/b\""));
    http_metrics_in_flight_add(m, 1);
    buf_reset(&b);
    http_metrics_write(m, &b);
    CHECK(strstr(buf_str(&b), "alertmanager_http_requests_in_flight{method=\"get\"} 1\n") != NULL);
    CHECK_INT(http_method_label_of("HEAD"), HTTP_M_HEAD);
    CHECK_INT(http_method_label_of("PROPFIND"), HTTP_M_OTHER);
    buf_cleanup(&b);
    http_metrics_free(m);
}

int main(void)
{
    test_ulid();
    test_name_kept();
    test_advertise();
    test_http_buckets();
    return CHECK_DONE();
}
