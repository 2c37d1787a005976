/* Routing (COMPAT 5.1): matching an alert's label set against the resolved routing tree
 * built by config.c. Depth first; children in file order; a matching child stops the
 * search among its siblings unless it has `continue`; a node whose children produced no
 * match is itself the result. Cost: O(routes visited x matchers). No allocation except in
 * route_match_all. */
#include "ar/config.h"

#include <stdlib.h>

/* Returns the number of matches reported below (and including) r. */
static size_t match_node(const struct route *r, const struct labelset *ls, route_match_cb cb,
                         void *ctx)
{
    size_t found = 0;

    if (!matchers_match(&r->matchers, ls)) {
        return 0;
    }
    for (size_t i = 0; i < r->nroutes; i++) {
        size_t n = match_node(r->routes[i], ls, cb, ctx);
        found += n;
        if (n > 0 && !r->routes[i]->continue_matching) {
            break;
        }
    }
    if (found == 0) {
        cb(r, ctx);
        found = 1;
    }
    return found;
}

void route_match(const struct route *root, const struct labelset *ls, route_match_cb cb, void *ctx)
{
    if (root == NULL) {
        return;
    }
    match_node(root, ls, cb, ctx);
}

struct collect {
    const struct route **v;
    size_t n;
    size_t cap;
};

static void collect_cb(const struct route *r, void *ctx)
{
    struct collect *c = ctx;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 4;
        c->v = ar_realloc(c->v, c->cap * sizeof(*c->v));
    }
    c->v[c->n++] = r;
}

size_t route_match_all(const struct route *root, const struct labelset *ls,
                       const struct route ***out)
{
    struct collect c = {NULL, 0, 0};
    route_match(root, ls, collect_cb, &c);
    *out = c.v;
    return c.n;
}

void route_walk(const struct route *root, route_match_cb cb, void *ctx)
{
    if (root == NULL) {
        return;
    }
    cb(root, ctx);
    for (size_t i = 0; i < root->nroutes; i++) {
        route_walk(root->routes[i], cb, ctx);
    }
}

static const struct route *find_index(const struct route *r, int index)
{
    if (r->index == index) {
        return r;
    }
    for (size_t i = 0; i < r->nroutes; i++) {
        /* children are numbered in order; skip subtrees that end before index */
        if (i + 1 < r->nroutes && r->routes[i + 1]->index <= index) {
            continue;
        }
        return find_index(r->routes[i], index);
    }
    return NULL;
}

const struct route *config_route_at(const struct config *c, int index)
{
    if (c == NULL || c->route == NULL || index < 0 || (size_t)index >= c->nroutes) {
        return NULL;
    }
    return find_index(c->route, index);
}
