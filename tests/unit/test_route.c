/* Unit tests for routing (COMPAT 5.1, 5.2): route_match() order with `continue`, fallback
 * to the parent, anchored regexes, missing labels as "", and route keys with escaped
 * matcher values. Table-driven over one routing tree. */
#include "ar/config.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>

static const char *const tree = "route:\n"
                                "  receiver: root\n"
                                "  labels: {a: '1', b: '2'}\n"
                                "  routes:\n"
                                "  - receiver: r0\n"
                                "    matchers: [team=\"a\"]\n"
                                "    continue: true\n"
                                "    labels: {b: '3', c: '4'}\n"
                                "    routes:\n"
                                "    - receiver: r00\n"
                                "      matchers: ['sev=~\"crit|warn\"']\n"
                                "    - receiver: r01\n"
                                "      matchers: ['sev!=\"\"']\n"
                                "  - receiver: r1\n"
                                "    match: {team: a}\n"
                                "  - receiver: r2\n"
                                "    matchers: ['env!~\"prod.*\"', 'q=\"x\\\"y\"']\n"
                                "  - receiver: r3\n"
                                "    matchers: ['team=\"\"']\n"
                                "receivers:\n"
                                "- name: root\n- name: r0\n- name: r00\n- name: r01\n"
                                "- name: r1\n- name: r2\n- name: r3\n";

struct match_case {
    const char *labels;
    const char *want;
};

static void set_labels(struct labelset *ls, const char *spec)
{
    char *copy = strdup(spec);
    labelset_init(ls);
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (eq != NULL) {
            *eq = '\0';
            labelset_set(ls, tok, eq + 1);
        }
    }
    free(copy);
}

static void join(const struct route *r, void *ctx)
{
    char *out = ctx;
    if (*out) {
        strcat(out, " ");
    }
    strcat(out, r->receiver);
}

static void count(const struct route *r, void *ctx)
{
    (void)r;
    (*(int *)ctx)++;
}

/* Issue 17: a nested repeat tried before the alternative that matches must not send the alert
 * to the default receiver (Alertmanager picks "staging"). */
static void test_pathological_regex(void)
{
    static const char *const yml = "route:\n"
                                   "  receiver: default\n"
                                   "  routes:\n"
                                   "  - receiver: staging\n"
                                   "    matchers: ['instance=~\"([a-z]+-?)+-prod|.*-staging\"']\n"
                                   "receivers:\n- name: default\n- name: staging\n";
    struct config *c = NULL;
    struct ar_error err;
    struct labelset ls;
    char got[64] = "";

    CHECK_INT(config_load_string(yml, "hostile.yml", &c, &err), AR_OK);
    if (c == NULL) {
        return;
    }
    set_labels(&ls, "instance=web-frontend-server-eu-west-staging");
    route_match(c->route, &ls, join, got);
    CHECK_STR(got, "staging");
    labelset_cleanup(&ls);
    got[0] = '\0';
    set_labels(&ls, "instance=web-frontend-server-eu-west-prod");
    route_match(c->route, &ls, join, got);
    CHECK_STR(got, "staging");
    labelset_cleanup(&ls);
    got[0] = '\0';
    set_labels(&ls, "instance=web-frontend-server-eu-west-dev");
    route_match(c->route, &ls, join, got);
    CHECK_STR(got, "default");
    labelset_cleanup(&ls);
    config_unref(c);
}

int main(void)
{
    static const struct match_case cases[] = {
        {"team=a,sev=crit", "r00 r1"},     /* continue on r0: r1 is tried too */
        {"team=a,sev=critical", "r01 r1"}, /* regex is anchored */
        {"team=a", "r0 r1"},               /* r0's children match nothing: r0 itself */
        {"team=b,env=production", "root"},
        {"team=b,env=dev,q=x\"y", "r2"},
        {"team=b,q=x\"y", "r2"}, /* env missing = "" does not match prod.* */
        {"sev=crit", "r3"},      /* team missing = "" */
        {"", "r3"},
    };
    struct config *c = NULL;
    struct ar_error err;

    if (config_load_string(tree, "tree.yml", &c, &err) != AR_OK) {
        fprintf(stderr, "%s\n", err.msg);
        CHECK(0);
        return CHECK_DONE();
    }
    for (size_t i = 0; i < AR_ARRAY_LEN(cases); i++) {
        struct labelset ls;
        char got[128] = "";
        set_labels(&ls, cases[i].labels);
        route_match(c->route, &ls, join, got);
        CHECK_STR(got, cases[i].want);
        labelset_cleanup(&ls);
    }
    CHECK_STR(c->route->routes[0]->key, "{}/{team=\"a\"}");
    CHECK_STR(c->route->routes[0]->routes[0]->key, "{}/{team=\"a\"}/{sev=~\"crit|warn\"}");
    CHECK_STR(c->route->routes[2]->key, "{}/{env!~\"prod.*\",q=\"x\\\"y\"}");
    CHECK_STR(c->route->routes[3]->key, "{}/{team=\"\"}");
    const struct str_map *l = &c->route->routes[0]->routes[0]->labels;
    CHECK_INT(l->n, 3);
    CHECK_STR(str_map_get(l, "a"), "1");
    CHECK_STR(str_map_get(l, "b"), "3");
    CHECK_STR(str_map_get(l, "c"), "4");
    CHECK_INT(c->route->routes[1]->labels.n, 2);
    int n = 0;
    route_walk(c->route, count, &n);
    CHECK_INT(n, 7);
    CHECK_INT((int)c->nroutes, 7);
    for (int i = 0; i < 7; i++) {
        const struct route *r = config_route_at(c, i);
        CHECK(r != NULL && r->index == i);
    }
    CHECK(config_find_receiver(c, "r3")->is_used);
    route_match(NULL, NULL, join, NULL); /* no tree: no calls */
    config_unref(c);
    test_pathological_regex();
    return CHECK_DONE();
}
