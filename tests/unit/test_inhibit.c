/* Unit tests for inhibition (COMPAT 6.1): equal labels, firing sources only, the two-sided
 * exception, empty equal, removal. */
#include "ar/inhibit.h"
#include "check.h"

#include <stdlib.h>

#define NOW (1000LL * 1000000000LL)

static const char *cfg_text = "route:\n  receiver: r\nreceivers:\n- name: r\n"
                              "inhibit_rules:\n"
                              "- source_matchers: ['alertname=\"JobDown\"']\n"
                              "  target_matchers: ['alertname=\"InstanceDown\"']\n"
                              "  equal: [job, zone]\n"
                              "- source_matchers: ['severity=\"critical\"']\n"
                              "  target_matchers: ['severity=~\"warning|critical\"']\n"
                              "  equal: [cluster]\n"
                              "-\n";

static struct alert *mk(const char *kv[], int64_t ends)
{
    struct alert *a = alert_new();

    for (int i = 0; kv[i] != NULL; i += 2) {
        labelset_set(&a->labels, kv[i], kv[i + 1]);
    }
    a->fp = labelset_fingerprint(&a->labels);
    a->starts_at = NOW - 10;
    a->ends_at = ends;
    a->updated_at = NOW - 10;
    return a;
}

int main(void)
{
    struct config *cfg = NULL;
    struct ar_error err;
    struct inhibitor *in;
    uint64_t by = 0;
    const char *job_down[] = {"alertname", "JobDown", "job", "j", "zone", "aa", NULL};
    const char *inst_aa[] = {"alertname", "InstanceDown", "job", "j", "zone", "aa", NULL};
    const char *inst_bb[] = {"alertname", "InstanceDown", "job", "j", "zone", "bb", NULL};
    const char *crit1[] = {"alertname", "A", "severity", "critical", "cluster", "c1", NULL};
    const char *crit2[] = {"alertname", "B", "severity", "critical", "cluster", "c1", NULL};
    const char *warn1[] = {"alertname", "C", "severity", "warning", "cluster", "c1", NULL};
    const char *warn_nocluster[] = {"alertname", "D", "severity", "warning", NULL};
    struct alert *src = mk(job_down, NOW + 100);
    struct alert *t_aa = mk(inst_aa, NOW + 100);
    struct alert *t_bb = mk(inst_bb, NOW + 100);
    struct alert *c1 = mk(crit1, NOW + 100);
    struct alert *c2 = mk(crit2, NOW + 100);
    struct alert *w1 = mk(warn1, NOW + 100);
    struct alert *w2 = mk(warn_nocluster, NOW + 100);

    CHECK_INT(config_load_string(cfg_text, "t.yml", &cfg, &err), AR_OK);
    if (cfg == NULL) {
        fprintf(stderr, "%s\n", err.msg);
        return CHECK_DONE();
    }
    in = inhibitor_new(cfg);
    CHECK_INT(inhibitor_rule_count(in), 2); /* the null entry is skipped */
    inhibitor_put(in, src);
    inhibitor_put(in, t_aa);
    inhibitor_put(in, t_bb);
    CHECK(inhibitor_check(in, &t_aa->labels, t_aa->fp, NOW, &by));
    CHECK(by == src->fp);
    CHECK(!inhibitor_check(in, &t_bb->labels, t_bb->fp, NOW, &by)); /* zone differs */
    CHECK(!inhibitor_check(in, &src->labels, src->fp, NOW, &by));   /* not a target */
    /* a resolved source inhibits nothing */
    CHECK(!inhibitor_check(in, &t_aa->labels, t_aa->fp, NOW + 200, &by));

    /* two alerts matching both sides do not cancel each other; a plain target is hit */
    inhibitor_put(in, c1);
    inhibitor_put(in, c2);
    inhibitor_put(in, w1);
    inhibitor_put(in, w2);
    CHECK(!inhibitor_check(in, &c1->labels, c1->fp, NOW, &by));
    CHECK(!inhibitor_check(in, &c2->labels, c2->fp, NOW, &by));
    CHECK(inhibitor_check(in, &w1->labels, w1->fp, NOW, &by));
    CHECK(!inhibitor_check(in, &w2->labels, w2->fp, NOW, &by)); /* cluster "" vs "c1" */

    /* removal */
    inhibitor_remove(in, src->fp);
    CHECK(!inhibitor_check(in, &t_aa->labels, t_aa->fp, NOW, &by));
    inhibitor_remove(in, c1->fp);
    inhibitor_remove(in, c2->fp);
    CHECK(!inhibitor_check(in, &w1->labels, w1->fp, NOW, &by));

    inhibitor_free(in);
    config_unref(cfg);
    alert_unref(src);
    alert_unref(t_aa);
    alert_unref(t_bb);
    alert_unref(c1);
    alert_unref(c2);
    alert_unref(w1);
    alert_unref(w2);
    return CHECK_DONE();
}
