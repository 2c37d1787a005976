/* The LISTEN connection (ar/store_pg_listen.h): poll() on libpq's socket, then
 * PQconsumeInput and PQnotifies, libpq's documented way to wait for notifications without
 * a query in flight. */
#include "ar/store_pg_listen.h"

#include "store_pg_conn.h"

#include "ar/clock.h"
#include "ar/log.h"
#include "ar/pg_url.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct store_pg_listener {
    PGconn *conn;
    char display[1024];
};

static void on_notice(void *arg, const char *message)
{
    (void)arg;
    log_debug("store", "PostgreSQL listener: %s", message);
}

int store_pg_listen_open(const char *conninfo, const char *password, const char *const *channels,
                         size_t n, struct store_pg_listener **out, struct ar_error *err)
{
    const char *keys[] = {"connect_timeout", "fallback_application_name", "dbname", "password",
                          NULL};
    const char *vals[] = {"10", "alertrouter-listen", conninfo, password, NULL};
    struct store_pg_listener *l = ar_calloc(1, sizeof(*l));
    char msg[512];

    if (password == NULL) {
        keys[3] = NULL;
    }
    pg_url_mask(conninfo, l->display, sizeof(l->display));
    l->conn = PQconnectdbParams(keys, vals, 1);
    if (l->conn == NULL || PQstatus(l->conn) != CONNECTION_OK) {
        ar_error_set(err, "cannot connect to PostgreSQL %s: %s", l->display,
                     store_pg_message(l->conn, msg, sizeof(msg)));
        store_pg_listen_close(l);
        return AR_EDB;
    }
    PQsetNoticeProcessor(l->conn, on_notice, NULL);
    for (size_t i = 0; i < n; i++) {
        char sql[128];
        PGresult *r;
        snprintf(sql, sizeof(sql), "LISTEN %s", channels[i]);
        r = PQexec(l->conn, sql);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            ar_error_set(err, "PostgreSQL %s: LISTEN %s: %s", l->display, channels[i],
                         store_pg_message(l->conn, msg, sizeof(msg)));
            PQclear(r);
            store_pg_listen_close(l);
            return AR_EDB;
        }
        PQclear(r);
    }
    *out = l;
    return AR_OK;
}

void store_pg_listen_close(struct store_pg_listener *l)
{
    if (l == NULL) {
        return;
    }
    if (l->conn != NULL) {
        PQfinish(l->conn);
    }
    free(l);
}

static int take(struct store_pg_listener *l, char *channel, size_t cap, char *payload, size_t pcap)
{
    PGnotify *nt = PQnotifies(l->conn);

    if (nt == NULL) {
        return 0;
    }
    if (channel != NULL && cap > 0) {
        snprintf(channel, cap, "%s", nt->relname);
    }
    if (payload != NULL && pcap > 0) {
        snprintf(payload, pcap, "%s", nt->extra);
    }
    PQfreemem(nt);
    return 1;
}

int store_pg_listen_wait(struct store_pg_listener *l, int timeout_ms, char *channel, size_t cap,
                         char *payload, size_t pcap)
{
    int64_t deadline = clock_monotonic_ns() + (int64_t)timeout_ms * 1000000;
    char msg[512];

    for (;;) {
        struct pollfd pfd;
        int64_t left;
        int rc;
        if (take(l, channel, cap, payload, pcap)) {
            return 1;
        }
        left = (deadline - clock_monotonic_ns()) / 1000000;
        if (left <= 0) {
            return 0;
        }
        pfd.fd = PQsocket(l->conn);
        pfd.events = POLLIN;
        pfd.revents = 0;
        if (pfd.fd < 0) {
            log_debug("store", "PostgreSQL %s: listener connection lost", l->display);
            return AR_EDB;
        }
        rc = poll(&pfd, 1, (int)left);
        if (rc < 0 && errno != EINTR) {
            log_debug("store", "PostgreSQL listener: poll: %s", strerror(errno));
            return AR_EDB;
        }
        if (rc > 0 && (PQconsumeInput(l->conn) == 0 || PQstatus(l->conn) != CONNECTION_OK)) {
            log_debug("store", "PostgreSQL %s: listener: %s", l->display,
                      store_pg_message(l->conn, msg, sizeof(msg)));
            return AR_EDB;
        }
    }
}
