/* Unit tests of the incident model (src/incident.c) and its rows (src/store_incidents.c):
 * opening, alerts joining and resolving, acknowledgements (one wins, a join clears), the
 * resolution, notes, reload after a restart, and the report rendered from the rows
 * (src/incident_report.c) with the built-in and a user template; acknowledgements and
 * notes from other instances (the cluster key, the earliest acknowledgement wins). */
#include "ar/clock.h"
#include "ar/incident.h"
#include "ar/incident_report.h"
#include "ar/store.h"
#include "ar/store_incidents.h"
#include "ar/tmpl.h"
#include "ar/txn.h"
#include "check.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SEC AR_NS_PER_SEC

static struct alert *mk(const char *instance, const char *severity, int64_t ends_at)
{
    struct alert *a = alert_new();

    labelset_set(&a->labels, "alertname", "monitor_service_down");
    labelset_set(&a->labels, "instance", instance);
    labelset_set(&a->labels, "severity", severity);
    labelset_set(&a->annotations, "summary", "down");
    a->fp = labelset_fingerprint(&a->labels);
    a->starts_at = 1;
    a->ends_at = ends_at;
    return a;
}

/* Commits t's batch through w and gives t a fresh one. */
static void commit(struct txn_writer *w, struct txn *t)
{
    struct txn_waiter wt;

    txn_waiter_init(&wt);
    txn_wait(t, &wt);
    txn_writer_submit(w, t->batch);
    CHECK_INT(txn_waiter_wait(&wt), AR_OK);
    txn_waiter_cleanup(&wt);
    t->batch = txn_batch_new();
}

static int count(const char *dir, const char *sql)
{
    sqlite3 *db = store_incidents_open_ro(dir);
    sqlite3_stmt *s = NULL;
    int n = -1;

    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
        n = sqlite3_column_int(s, 0);
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

static bool group_exists(void *ctx, const char *receiver, const char *group_key)
{
    return strcmp(receiver, "team") == 0 && strcmp(group_key, ctx) == 0;
}

static const char *state_of(const char *dir, int64_t id, struct incident_row **keep)
{
    sqlite3 *db = store_incidents_open_ro(dir);
    struct incident_row *r = NULL;

    CHECK_INT(store_incident_get(db, id, &r), AR_OK);
    sqlite3_close(db);
    incident_row_free(*keep);
    *keep = r;
    return r ? r->state : "";
}

static void test_lifecycle(void)
{
    char dir[] = "/tmp/ar-incident-test-XXXXXX";
    struct ar_error err;
    struct store *st = NULL;
    struct txn_writer *w;
    struct incident_set *s = incident_set_new();
    struct labelset gl;
    int64_t now = clock_now_ns();
    struct txn t = {txn_batch_new(), now};
    struct alert *a = mk("cadvisor:8080", "warning", now + 3600 * SEC);
    struct alert *b = mk("node:9100", "critical", now + 3600 * SEC);
    struct alert *a_res = mk("cadvisor:8080", "warning", now - SEC);
    struct alert *b_res = mk("node:9100", "critical", now - SEC);
    struct alert *snap[2];
    struct incident_row *r = NULL;
    struct tmpl_set *nt = tmpl_set_new();
    char *prev = NULL;
    int64_t id;
    int64_t id2;

    CHECK(mkdtemp(dir) != NULL);
    CHECK_INT(store_open(dir, &st, &err), AR_OK);
    w = txn_writer_new(st);
    CHECK_INT(txn_writer_start(w), AR_OK);
    labelset_init(&gl);
    labelset_set(&gl, "alertname", "monitor_service_down");
    CHECK_INT(tmpl_set_load_defaults(nt, &err), AR_OK);

    /* nothing fires and none is open: no incident */
    snap[0] = a_res;
    CHECK_INT(incident_flush_begin(s, "team", "{}:{a}", &gl, snap, 1, now, &t), 0);
    /* the first firing alert opens one */
    snap[0] = a;
    id = incident_flush_begin(s, "team", "{}:{a}", &gl, snap, 1, now, &t);
    CHECK(id > 0);
    CHECK_INT(incident_set_count(s), 1);
    /* the same snapshot again changes nothing */
    CHECK_INT(incident_flush_begin(s, "team", "{}:{a}", &gl, snap, 1, now, &t), id);
    incident_notify_outcome(&t, id, 7, "team", "webhook[0]", now, 1, 0, "delivered", 1, "");
    commit(w, &t);
    CHECK_STR(state_of(dir, id, &r), "open");
    CHECK_STR(r->group_key, "{}:{a}");
    {
        /* the title: the default chat title over the alerts, rendered when read */
        char *title = incident_title(nt, r);
        CHECK_STR(title, "[FIRING:1] monitor_service_down (cadvisor:8080 warning)");
        free(title);
        title = incident_title(NULL, r);
        CHECK_STR(title, "{}:{a}");
        free(title);
    }
    CHECK_STR(r->severity, "warning");
    CHECK_INT(count(dir, "SELECT COUNT(*) FROM incident_events WHERE kind = 'alert_firing'"), 1);
    CHECK_INT(count(dir, "SELECT COUNT(*) FROM incident_events"), 2);

    /* acknowledged: the first wins, the second is recorded and refused */
    CHECK_INT(incident_ack(s, id, "alice", "on it", "127.0.0.1", "", &t, &prev), AR_OK);
    CHECK(incident_acknowledged(s, id, "team", "{}:{a}"));
    CHECK(!incident_acknowledged(s, id, "team", "{}:{other}"));
    CHECK_INT(incident_ack(s, id, "bob", "", "127.0.0.1", "", &t, &prev), AR_EEXIST);
    CHECK_STR(prev, "alice");
    free(prev);
    prev = NULL;
    CHECK_INT(incident_ack(s, 999, "bob", "", "127.0.0.1", "", &t, &prev), AR_ENOTFOUND);
    commit(w, &t);
    CHECK_STR(state_of(dir, id, &r), "acknowledged");
    CHECK_STR(r->acked_by, "alice");
    CHECK_INT(count(dir, "SELECT COUNT(*) FROM incident_events WHERE kind = 'acknowledged'"), 2);
    CHECK_INT(count(dir, "SELECT COUNT(*) FROM audit_log WHERE action = 'incident.ack'"), 2);

    /* the restart: a new set loads the open incident with its alerts and its ack */
    {
        struct incident_set *s2 = incident_set_new();
        CHECK_INT(incident_set_load(s2, st), AR_OK);
        CHECK_INT(incident_set_count(s2), 1);
        CHECK(incident_acknowledged(s2, id, "team", "{}:{a}"));
        CHECK_INT(incident_flush_begin(s2, "team", "{}:{a}", &gl, snap, 1, now, &t), id);
        commit(w, &t);
        CHECK_INT(count(dir, "SELECT COUNT(*) FROM incident_events WHERE kind = 'alert_firing'"),
                  1);
        incident_set_free(s2);
    }

    /* a new alert joining clears the acknowledgement and raises the severity */
    snap[1] = b;
    CHECK_INT(incident_flush_begin(s, "team", "{}:{a}", &gl, snap, 2, now, &t), id);
    CHECK(!incident_acknowledged(s, id, "team", "{}:{a}"));
    commit(w, &t);
    CHECK_STR(state_of(dir, id, &r), "open");
    CHECK_STR(r->severity, "critical");
    CHECK_INT(count(dir, "SELECT COUNT(*) FROM incident_events WHERE kind = 'ack_cleared'"), 1);

    /* muted once per alert and kind, whatever the order of the calls (a sorted set) */
    incident_muted(s, id, "team", "{}:{a}", b, "silenced", "sil-1", &t);
    incident_muted(s, id, "team", "{}:{a}", b, "silenced", "sil-1", &t);
    incident_muted(s, id, "team", "{}:{a}", b, "inhibited", "0123456789abcdef", &t);
    incident_muted(s, id, "team", "{}:{a}", a, "silenced", "sil-2", &t);
    incident_muted(s, id, "team", "{}:{a}", b, "inhibited", "0123456789abcdef", &t);
    incident_muted(s, id, "team", "{}:{a}", a, "silenced", "sil-2", &t);
    incident_muted(s, id, "team", "{}:{a}", b, "silenced", "sil-1", &t);
    /* an id that is not that group's incident records nothing */
    incident_muted(s, id + 1, "team", "{}:{a}", a, "inhibited", "0123456789abcdef", &t);
    incident_muted(s, id, "team", "{}:{b}", a, "inhibited", "0123456789abcdef", &t);

    /* everything resolved: a failed flush keeps it open, a successful one resolves it */
    snap[0] = a_res;
    snap[1] = b_res;
    CHECK_INT(incident_flush_begin(s, "team", "{}:{a}", &gl, snap, 2, now, &t), id);
    incident_flush_end(s, id, "team", "{}:{a}", false, true, now, &t);
    CHECK_INT(incident_set_count(s), 1);
    incident_flush_end(s, id, "team", "{}:{a}", true, true, now + SEC, &t);
    CHECK_INT(incident_set_count(s), 0);
    commit(w, &t);
    CHECK_STR(state_of(dir, id, &r), "resolved");
    CHECK_INT(r->resolved_at, now + SEC);
    CHECK_INT(count(dir, "SELECT COUNT(*) FROM incident_events WHERE kind = 'alert_resolved'"), 2);
    CHECK_INT(count(dir, "SELECT COUNT(*) FROM incident_alerts WHERE resolved = 1"), 2);
    CHECK_INT(count(dir, "SELECT COUNT(*) FROM incident_events WHERE kind IN ('silenced', "
                         "'inhibited')"),
              3);
    CHECK_INT(incident_ack(s, id, "bob", "", "127.0.0.1", "", &t, &prev), AR_ENOTFOUND);

    /* notes: on a resolved incident too, append-only */
    CHECK(incident_section_valid("post_incident_analysis"));
    CHECK(!incident_section_valid("lessons"));
    {
        int64_t n1 =
            incident_note_add(s, id, "mitigation", "bob", "Restarted | it.", 0, "", "", &t);
        int64_t n2 =
            incident_note_add(s, id, "mitigation", "bob", "Restarted it (v2).", n1, "", "", &t);
        CHECK(n2 == n1 + 1);
        commit(w, &t);
        CHECK_INT(count(dir, "SELECT COUNT(*) FROM incident_notes"), 2);
    }

    /* the report: every section, the latest version of each note */
    {
        struct buf out;
        char path[600];
        FILE *f;
        buf_init(&out, 0);
        CHECK_INT(incident_report_render(dir, id, INCIDENT_REPORT_MARKDOWN, NULL, nt, &out, &err),
                  AR_OK);
        CHECK(strstr(buf_str(&out), "## Timeline") != NULL);
        CHECK(strstr(buf_str(&out), "## Recommendations\n\nNo notes.") != NULL);
        CHECK(strstr(buf_str(&out), "Restarted it (v2).") != NULL);
        CHECK(strstr(buf_str(&out), "Restarted | it.") == NULL);
        CHECK(strstr(buf_str(&out), "| Affected services | node:9100, cadvisor:8080 |") != NULL ||
              strstr(buf_str(&out), "| Affected services | cadvisor:8080, node:9100 |") != NULL);
        CHECK(strstr(buf_str(&out), "Time to resolve: 1s") != NULL);
        buf_reset(&out);
        CHECK_INT(incident_report_render(dir, id, INCIDENT_REPORT_JSON, NULL, nt, &out, &err),
                  AR_OK);
        CHECK(strstr(buf_str(&out), "\"state\":\"resolved\"") != NULL);
        buf_reset(&out);
        CHECK_INT(incident_report_render(dir, 4242, INCIDENT_REPORT_HTML, NULL, nt, &out, &err),
                  AR_ENOTFOUND);
        /* a user's template file redefines one report */
        snprintf(path, sizeof(path), "%s/mine.tmpl", dir);
        f = fopen(path, "w");
        CHECK(f != NULL);
        fputs("{{ define \"incident.report.markdown\" }}#{{ .id }} {{ .state }} "
              "{{ len .timeline }}{{ end }}",
              f);
        fclose(f);
        buf_reset(&out);
        CHECK_INT(incident_report_render(dir, id, INCIDENT_REPORT_MARKDOWN, path, nt, &out, &err),
                  AR_OK);
        CHECK(strncmp(buf_str(&out), "#1 resolved ", 12) == 0);
        buf_reset(&out);
        CHECK_INT(incident_report_render(dir, id, INCIDENT_REPORT_HTML, path, nt, &out, &err),
                  AR_OK);
        CHECK(strstr(buf_str(&out), "<h2 id=\"mitigation\">") != NULL);
        /* an edit moved to another section leaves the old one */
        incident_note_add(s, id, "conclusions", "bob", "Moved (v3).", 2, "", "", &t);
        commit(w, &t);
        buf_reset(&out);
        CHECK_INT(incident_report_render(dir, id, INCIDENT_REPORT_MARKDOWN, NULL, nt, &out, &err),
                  AR_OK);
        CHECK(strstr(buf_str(&out), "## Mitigation\n\nNo notes.") != NULL);
        CHECK(strstr(buf_str(&out), "## Conclusions\n\nMoved (v3).") != NULL);
        CHECK(strstr(buf_str(&out), "Restarted it (v2).") == NULL);
        buf_cleanup(&out);
        unlink(path);
    }

    /* a firing alert after the resolution opens a new incident */
    snap[0] = a;
    id2 = incident_flush_begin(s, "team", "{}:{a}", &gl, snap, 1, now, &t);
    CHECK(id2 == id + 1);
    /* its group gone (a reload moved the alerts): the maintenance pass closes it */
    CHECK_INT(incident_set_close_orphans(s, group_exists, "{}:{a}", &t), 0);
    CHECK_INT(incident_set_close_orphans(s, group_exists, "{}:{b}", &t), 1);
    CHECK_INT(incident_set_count(s), 0);
    commit(w, &t);
    CHECK_STR(state_of(dir, id2, &r), "resolved");
    CHECK_INT(count(dir, "SELECT COUNT(*) FROM incident_events WHERE kind = 'closed'"), 1);

    incident_row_free(r);
    labelset_cleanup(&gl);
    alert_unref(a);
    alert_unref(b);
    alert_unref(a_res);
    alert_unref(b_res);
    incident_set_free(s);
    tmpl_set_free(nt);
    txn_writer_stop(w);
    txn_writer_free(w);
    txn_batch_free(t.batch);
    store_close(st);
    {
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        CHECK_INT(system(cmd), 0);
    }
}

/* Acknowledgements and notes of other instances (src/ha_records.c applies them). */
static void test_remote(void)
{
    char dir[] = "/tmp/ar-incident-test-XXXXXX";
    struct ar_error err;
    struct store *st = NULL;
    struct txn_writer *w;
    struct incident_set *s = incident_set_new();
    struct labelset gl;
    int64_t now = clock_now_ns();
    struct txn t = {txn_batch_new(), now};
    struct alert *a = mk("cadvisor:8080", "warning", now + 3600 * SEC);
    struct alert *snap[1] = {a};
    struct incident_row *r = NULL;
    char *key = incident_cluster_key("team", "{}:{a}", 1);
    char *other = incident_cluster_key("team", "{}:{a}", 2);
    char *prev = NULL;
    int64_t id;
    int64_t n1;

    CHECK(mkdtemp(dir) != NULL);
    CHECK_INT(store_open(dir, &st, &err), AR_OK);
    w = txn_writer_new(st);
    CHECK_INT(txn_writer_start(w), AR_OK);
    labelset_init(&gl);
    /* the key: receiver, group key and the earliest startsAt of the firing alerts */
    id = incident_flush_begin(s, "team", "{}:{a}", &gl, snap, 1, now, &t);
    commit(w, &t);
    CHECK_STR(state_of(dir, id, &r), "open");
    CHECK_STR(r->cluster_key, key);
    /* another episode of the group, or another group: nothing */
    CHECK_INT(incident_ack_remote(s, other, "peer-b", "peer-a", now, "x", "", &t), AR_ENOTFOUND);
    CHECK_INT(incident_ack_remote(s,
                                  "team\x1f{}:{b}\x1f"
                                  "1",
                                  "peer-b", "peer-a", now, "x", "", &t),
              AR_ENOTFOUND);
    CHECK_INT(incident_ack_remote(s, "garbage", "peer-b", "peer-a", now, "x", "", &t),
              AR_ENOTFOUND);
    /* open: the remote acknowledgement is in force, and a local one then loses at once */
    CHECK_INT(incident_ack_remote(s, key, "peer-b", "peer-a", now + 10, "bob", "b", &t), AR_OK);
    CHECK(incident_acknowledged(s, id, "team", "{}:{a}"));
    CHECK_INT(incident_ack(s, id, "carol", "", "127.0.0.1", "", &t, &prev), AR_EEXIST);
    CHECK_STR(prev, "bob");
    free(prev);
    /* a later one loses, an earlier one wins (the same rule on every instance) */
    CHECK_INT(incident_ack_remote(s, key, "peer-c", "peer-a", now + 20, "dave", "", &t), AR_EEXIST);
    CHECK_INT(incident_ack_remote(s, key, "peer-c", "peer-a", now + 5, "erin", "", &t), AR_OK);
    /* the same time: the smaller peer name */
    CHECK_INT(incident_ack_remote(s, key, "peer-d", "peer-a", now + 5, "fred", "", &t), AR_EEXIST);
    CHECK_INT(incident_ack_remote(s, key, "peer-0", "peer-a", now + 5, "gina", "", &t), AR_OK);
    commit(w, &t);
    CHECK_STR(state_of(dir, id, &r), "acknowledged");
    CHECK_STR(r->acked_by, "gina");
    CHECK_INT(r->acked_at, now + 5);
    /* all recorded, marked with their origin (so never published back), no audit rows */
    CHECK_INT(count(dir, "SELECT COUNT(*) FROM incident_events WHERE kind = 'acknowledged'"
                         " AND origin != ''"),
              5);
    CHECK_INT(count(dir, "SELECT COUNT(*) FROM audit_log"), 1); /* carol's, local */
    /* notes: the local id replaces, the origin kept */
    n1 = incident_note_add_remote(s, id, "mitigation", "bob", "v1", 0, "peer-b", 7, now, &t);
    CHECK(incident_note_add_remote(s, id, "mitigation", "bob", "v2", n1, "peer-b", 8, now, &t) ==
          n1 + 1);
    commit(w, &t);
    CHECK_INT(count(dir, "SELECT COUNT(*) FROM incident_notes WHERE origin = 'peer-b'"
                         " AND origin_seq IN (7, 8)"),
              2);
    CHECK_INT(count(dir, "SELECT replaces FROM incident_notes WHERE origin_seq = 8"), (int)n1);
    /* a restart keeps the key */
    {
        struct incident_set *s2 = incident_set_new();
        CHECK_INT(incident_set_load(s2, st), AR_OK);
        CHECK_INT(incident_ack_remote(s2, key, "peer-0", "peer-a", now, "hal", "", &t), AR_OK);
        incident_set_free(s2);
        commit(w, &t);
    }

    free(key);
    free(other);
    incident_row_free(r);
    labelset_cleanup(&gl);
    alert_unref(a);
    incident_set_free(s);
    txn_writer_stop(w);
    txn_writer_free(w);
    txn_batch_free(t.batch);
    store_close(st);
    {
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        CHECK_INT(system(cmd), 0);
    }
}

int main(void)
{
    test_lifecycle();
    test_remote();
    return CHECK_DONE();
}
