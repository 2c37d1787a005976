/* Process entry point: parses flags, runs a subcommand (check-config, template,
 * test-receiver, deliveries, history, incident) or the
 * daemon: load config, open storage, start the core and the HTTP listeners, then wait for
 * signals (SIGHUP reloads, SIGTERM/SIGINT shut down gracefully: stop accepting, finish
 * in-flight requests, flush writes). */
#include "ar/api.h"
#include "ar/cli.h"
#include "ar/clock.h"
#include "ar/cluster.h"
#include "ar/config.h"
#include "ar/config_ext.h"
#include "ar/core.h"
#include "ar/flags.h"
#include "ar/ha_sync.h"
#include "ar/http.h"
#include "ar/http_metrics.h"
#include "ar/integration.h"
#include "ar/log.h"
#include "ar/notify.h"
#include "ar/pg_health.h"
#include "ar/pg_url.h"
#include "ar/ratelimit.h"
#include "ar/store.h"
#include "ar/store_pg.h"
#include "ar/tmpl.h"
#include "ar/web_config.h"

#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

struct daemon {
    struct flags flags;
    struct api *api;         /* for reload status metrics */
    const char *config_path; /* NULL when running on the embedded default */
    struct core *core;
    pthread_mutex_t reload_mu;
};

static int load_config(const char *path, const char *ext_path, struct config **out,
                       struct ar_error *err);

static int check_config(int argc, char **argv)
{
    const char *ext_path = NULL;
    const char *files[64];
    size_t nfiles = 0;
    int failed = 0;

    for (int i = 2; i < argc; i++) {
        if (strncmp(argv[i], "--extensions.file=", 18) == 0) {
            ext_path = argv[i] + 18;
        } else if (strcmp(argv[i], "--extensions.file") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "alertrouter check-config: expected argument for flag "
                                "'--extensions.file'\n");
                return 2;
            }
            ext_path = argv[++i];
        } else if (strncmp(argv[i], "--", 2) == 0) {
            fprintf(stderr, "alertrouter check-config: unknown flag %s\n", argv[i]);
            return 2;
        } else if (nfiles < AR_ARRAY_LEN(files)) {
            files[nfiles++] = argv[i];
        }
    }
    if (nfiles == 0) {
        fprintf(stderr, "usage: alertrouter check-config <file>... [--extensions.file=FILE]\n");
        return 2;
    }
    for (size_t i = 0; i < nfiles; i++) {
        struct config *cfg = NULL;
        struct ar_error err;
        if (load_config(files[i], NULL, &cfg, &err) != AR_OK) {
            printf("Checking '%s'  FAILED: %s\n\n", files[i], err.msg);
            failed = 1;
            continue;
        }
        printf("Checking '%s'  SUCCESS\n", files[i]);
        config_print_summary(cfg, stdout);
        printf("\n");
        config_unref(cfg);
    }
    if (ext_path != NULL && ext_path[0] != '\0') {
        struct config_ext *ext = NULL;
        struct ar_error err;
        if (config_ext_load_file(ext_path, &ext, &err) != AR_OK) {
            printf("Checking '%s'  FAILED: %s\n\n", ext_path, err.msg);
            return 1;
        }
        printf("Checking '%s'  SUCCESS\n", ext_path);
        config_ext_print_summary(ext, stdout);
        printf("\n");
        config_ext_unref(ext);
    }
    return failed;
}

/* Raises the open-files limit to its hard limit (as Go's runtime does for Alertmanager) and
 * returns max lowered, if need be, so connections, libmicrohttpd's spare ones and the
 * process's other files (database, notifier sockets) fit under it. */
static unsigned connection_limit(unsigned max)
{
    struct rlimit rl;
    unsigned fit;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        return max;
    }
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            getrlimit(RLIMIT_NOFILE, &rl);
        }
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1000000) {
        return max;
    }
    fit = rl.rlim_cur > 512 ? (unsigned)rl.rlim_cur - 256 : 128;
    if (max > fit) {
        log_warn("http", "--web.max-connections=%u lowered to %u to fit the open-files limit %llu",
                 max, fit, (unsigned long long)rl.rlim_cur);
        return fit;
    }
    return max;
}

/* Loads a configuration the daemon can run: Alertmanager's rules, and a sender for every
 * integration (integration_check_senders), plus the extensions file when ext_path is set and
 * not empty (a bad one fails the whole load, so a reload keeps the running pair). */
static int load_config(const char *path, const char *ext_path, struct config **out,
                       struct ar_error *err)
{
    struct config_ext *ext = NULL;
    int rc = path == NULL ? config_load_string(config_default_text(), "<embedded>", out, err)
                          : config_load_file(path, out, err);

    if (rc == AR_OK && (rc = integration_check_senders(*out, err)) != AR_OK) {
        config_unref(*out);
        *out = NULL;
    }
    if (rc == AR_OK && ext_path != NULL && ext_path[0] != '\0') {
        rc = config_ext_load_file(ext_path, &ext, err);
        if (rc != AR_OK) {
            config_unref(*out);
            *out = NULL;
            return rc;
        }
        config_attach_ext(*out, ext);
    }
    return rc;
}

/* Reloads the configuration and the web configuration. Each part that loads is applied;
 * a part that fails keeps the running one, and the reload as a whole fails (SIGHUP logs
 * it, /-/reload answers 500), so an operator rotating credentials learns that the old
 * ones are still in force. */
static int reload(void *ctx, struct ar_error *err)
{
    struct daemon *d = ctx;
    struct config *cfg = NULL;
    int rc;

    pthread_mutex_lock(&d->reload_mu);
    rc = load_config(d->config_path, d->flags.extensions_file, &cfg, err);
    if (rc == AR_OK) {
        core_set_config(d->core, cfg);
        config_unref(cfg);
        log_info("config", "configuration reloaded from %s",
                 d->config_path ? d->config_path : "<embedded>");
        if (d->flags.extensions_file[0] != '\0') {
            log_info("config", "extensions reloaded from %s", d->flags.extensions_file);
        }
    } else {
        log_error("config", "reload failed, keeping the running configuration: %s", err->msg);
    }
    if (d->flags.web_config_file[0] != '\0') {
        struct ar_error werr;
        if (web_config_slot_reload(web_config_slot_default(), d->flags.web_config_file, &werr) !=
            AR_OK) {
            log_error("main", "web configuration reload failed, keeping the running one: %s",
                      werr.msg);
            if (rc == AR_OK) {
                ar_error_set(err, "web configuration %s: %s", d->flags.web_config_file, werr.msg);
                rc = AR_EINVAL;
            }
        } else {
            log_info("main", "web configuration reloaded from %s", d->flags.web_config_file);
        }
    }
    if (d->api != NULL) {
        __atomic_store_n(&d->api->reload_ok, rc == AR_OK, __ATOMIC_RELAXED);
        if (rc == AR_OK) {
            __atomic_store_n(&d->api->reload_ok_at_ns, clock_now_ns(), __ATOMIC_RELAXED);
        }
    }
    pthread_mutex_unlock(&d->reload_mu);
    return rc;
}

/* http://<hostname>:<port>/ from the first listen address, as Alertmanager defaults. */
static char *default_external_url(const char *listen)
{
    char host[256];
    const char *colon = strrchr(listen, ':');

    if (gethostname(host, sizeof(host)) != 0) {
        snprintf(host, sizeof(host), "localhost");
    }
    host[sizeof(host) - 1] = '\0';
    return ar_asprintf("http://%s:%s/", host, colon ? colon + 1 : "9093");
}

/* Route prefix: the flag, else the path of the external URL; "/" becomes "". */
static char *route_prefix(const char *flag, const char *external_url)
{
    const char *p = flag;
    char *out;
    size_t n;

    if (p == NULL || p[0] == '\0') {
        const char *scheme = strstr(external_url, "://");
        p = scheme ? strchr(scheme + 3, '/') : NULL;
        if (p == NULL) {
            p = "/";
        }
    }
    out = p[0] == '/' ? ar_strdup(p) : ar_asprintf("/%s", p);
    n = strlen(out);
    while (n > 0 && out[n - 1] == '/') {
        out[--n] = '\0';
    }
    return out;
}

/* --storage.url (docs/ha.md): reads the password (--storage.password-file, else NULL:
 * libpq takes PGPASSWORD or ~/.pgpass), connects once to check the connection and migrate
 * the shared schema, and configures pg_health with the masked URL. The local SQLite store
 * is opened as usual afterwards; ha_sync shares silences, the notification log and
 * membership through PostgreSQL. Fills password (cap bytes) and *pw (NULL or password). */
static int open_pg_storage(const struct flags *f, char *password, size_t cap, const char **pw)
{
    struct store_pg *pg = NULL;
    struct ar_error err;

    *pw = NULL;
    if (f->storage_password_file[0] != '\0') {
        if (pg_url_read_password_file(f->storage_password_file, password, cap, &err) != AR_OK) {
            log_error("store", "%s", err.msg);
            return AR_EINVAL;
        }
        *pw = password;
    }
    if (store_pg_open(f->storage_url, *pw, &pg, &err) != AR_OK) {
        log_error("store", "%s", err.msg);
        return AR_EDB;
    }
    log_info("store", "connected to PostgreSQL %s (server version %d), schema version %d",
             store_pg_display(pg), store_pg_server_version(pg), store_pg_schema_version(pg));
    pg_health_configure(store_pg_display(pg));
    store_pg_close(pg);
    return AR_OK;
}

static int run_daemon(struct daemon *d)
{
    struct flags *f = &d->flags;
    struct config *cfg = NULL;
    struct store *st = NULL;
    struct http_server *servers[AR_ARRAY_LEN(f->listen)] = {0};
    struct ar_error err;
    struct api api;
    struct core_options copt;
    struct http_options hopt;
    char *external_url = NULL;
    char *prefix = NULL;
    sigset_t sigs;
    int rc = 1;
    struct stat sb;
    struct notifier *notifier = NULL;
    char *shown_url = NULL;
    struct cluster_self cluster;
    char pg_password[1024];
    const char *pw = NULL;
    struct ha_sync *ha = NULL;

    memset(&api, 0, sizeof(api));
    memset(&cluster, 0, sizeof(cluster));
    api.start_ns = clock_now_ns();
    memset(&hopt, 0, sizeof(hopt));
    if (f->web_config_file[0] != '\0') {
        struct web_config *web = NULL;
        if (web_config_load_file(f->web_config_file, &web, &err) != AR_OK) {
            log_error("main", "invalid --web.config.file, not starting: %s", err.msg);
            return 1;
        }
        log_info("main", "web configuration %s: TLS %s, basic auth %s", f->web_config_file,
                 web_config_has_tls(web) ? "enabled" : "disabled",
                 web_config_has_users(web) ? "enabled" : "disabled");
        hopt.web = web_config_slot_default();
        web_config_slot_set(hopt.web, web); /* the slot owns it */
    }
    for (size_t i = 0; i < f->nignored; i++) {
        log_warn("main", "flag %s is accepted for compatibility and ignored", f->ignored[i]);
    }
    d->config_path = f->config_file;
    if (!f->config_file_set && stat(f->config_file, &sb) != 0) {
        d->config_path = NULL;
        log_info("config", "no %s found: using the built-in default configuration", f->config_file);
    }
    external_url =
        f->external_url[0] ? ar_strdup(f->external_url) : default_external_url(f->listen[0]);
    if (strncmp(external_url, "http://", 7) != 0 && strncmp(external_url, "https://", 8) != 0) {
        const char *colon = strchr(external_url, ':');
        log_error("main",
                  "failed to determine external URL: \"%s\": invalid \"%.*s\" scheme, "
                  "only 'http' and 'https' are supported",
                  external_url, colon ? (int)(colon - external_url) : 0, external_url);
        free(external_url);
        return 1;
    }
    /* Signals go to this thread only (sigwait below): blocked before any thread starts (the
     * store's checkpointer, the notifier's), which inherit the mask; a thread that left them
     * unblocked would take a SIGTERM arriving before the sigwait and die of it. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGHUP);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (load_config(d->config_path, f->extensions_file, &cfg, &err) != AR_OK) {
        log_error("config", "loading configuration failed: %s", err.msg);
        free(external_url);
        return 1;
    }
    if (strcmp(f->storage_synchronous, "normal") != 0 &&
        strcmp(f->storage_synchronous, "full") != 0) {
        log_error("main", "--storage.synchronous must be normal or full, not \"%s\"",
                  f->storage_synchronous);
        goto out;
    }
    if (f->storage_url[0] != '\0') {
        if (open_pg_storage(f, pg_password, sizeof(pg_password), &pw) != AR_OK) {
            goto out;
        }
    } else if (f->storage_password_file[0] != '\0') {
        log_error("store", "--storage.password-file is only used with --storage.url");
        goto out;
    }
    if (store_open(f->storage_path, &st, &err) != AR_OK) {
        log_error("store", "%s", err.msg);
        goto out;
    }
    if (strcmp(f->storage_synchronous, "full") == 0 &&
        store_set_synchronous_full(st, &err) != AR_OK) {
        log_error("store", "%s", err.msg);
        goto out;
    }
    if (f->cluster_listen[0] != '\0' || f->storage_url[0] != '\0') {
        char fresh[CLUSTER_NAME_LEN + 1];
        /* on PostgreSQL without a cluster address: the HTTP address identifies the peer */
        if (cluster_advertise_address(
                f->cluster_listen[0] != '\0' ? f->cluster_listen : f->listen[0],
                f->cluster_advertise, cluster.address, sizeof(cluster.address), &err) != AR_OK) {
            log_error("cluster", "%s", err.msg);
            goto out;
        }
        /* the name is minted once per data directory and kept (migrations/0008) */
        cluster_ulid_new(fresh);
        if (store_instance_get_or_put(st, "peer_name", fresh, cluster.name, sizeof(cluster.name)) !=
                AR_OK ||
            !cluster_name_valid(cluster.name)) {
            log_error("store", "cannot read or store the cluster peer name: %s", store_errmsg(st));
            goto out;
        }
        cluster.enabled = true;
        if (f->storage_url[0] != '\0') {
            log_info("cluster",
                     "peer %s at %s, sharing silences and the notification log "
                     "through PostgreSQL",
                     cluster.name, cluster.address);
        } else {
            log_info("cluster",
                     "cluster of one: peer %s at %s (no gossip port is opened; "
                     "--cluster.listen-address=\"\" disables)",
                     cluster.name, cluster.address);
        }
    }
    {
        /* Bounded parallelism per receiver host: requests beyond it wait in libcurl and
         * reuse kept-alive connections instead of opening thousands at once. */
        struct notifier_opts nopts = {0};
        nopts.max_connections = 32;
        notifier = notifier_new(&nopts);
    }
    if (notifier_start(notifier) != AR_OK) {
        log_error("notify", "cannot start the notifier thread");
        goto out;
    }
    memset(&copt, 0, sizeof(copt));
    copt.notifier = notifier;
    /* COMPAT: notifications show the external URL without its trailing slash */
    shown_url = ar_strdup(external_url);
    for (size_t n = strlen(shown_url); n > 0 && shown_url[n - 1] == '/'; n--) {
        shown_url[n - 1] = '\0';
    }
    copt.external_url = shown_url;
    copt.gc_interval_ns = f->gc_interval_ms * AR_NS_PER_MS;
    copt.retention_ns = f->retention_ms * AR_NS_PER_MS;
    copt.history_retention_ns = f->history_retention_ms * AR_NS_PER_MS;
    copt.maintenance_interval_ns = f->maintenance_ms * AR_NS_PER_MS;
    copt.max_bytes = f->storage_max_bytes;
    copt.max_silences = (size_t)f->max_silences;
    copt.notify_deadline_ns = f->notify_deadline_ms * AR_NS_PER_MS;
    if (core_new(st, cfg, &copt, &d->core) != AR_OK) {
        log_error("core", "loading stored state failed: %s", store_errmsg(st));
        goto out;
    }
    if (core_start(d->core) != AR_OK) {
        log_error("core", "cannot start threads");
        goto out;
    }
    if (f->storage_url[0] != '\0') {
        struct ha_sync_options hopts = {
            .conninfo = f->storage_url,
            .password = pw,
            .name = cluster.name,
            .address = cluster.address,
            .api_url = external_url,
            .storage_path = f->storage_path,
            .retention_ns = f->retention_ms * AR_NS_PER_MS,
        };
        ha = ha_sync_new(&hopts); /* keeps its own copy of the password */
        explicit_bzero(pg_password, sizeof(pg_password));
        if (ha_sync_start(ha, d->core, st, &err) != AR_OK) {
            log_error("sync", "%s", err.msg);
            goto stop;
        }
    }
    prefix = route_prefix(f->route_prefix, external_url);
    api.core = d->core;
    api.route_prefix = prefix;
    api.external_url = external_url;
    api.limits.max_alerts = (size_t)f->max_alerts;
    api.limits.max_labels = (size_t)f->max_labels;
    api.limits.max_label_value_bytes = (size_t)f->max_label_bytes;
    api.limits.strings = core_strings(d->core);
    api.limits.texts = core_texts(d->core);
    api.ratelimit = ratelimit_new((double)f->rate_limit, (double)f->rate_limit_burst);
    api.reload = reload;
    api.reload_ctx = d;
    api.notifier = notifier;
    api.storage_path = f->storage_path;
    api.reload_ok = true;
    api.reload_ok_at_ns = clock_now_ns();
    api.cluster = &cluster;
    api.ha = ha;
    api.http_metrics = api_http_metrics_new();
    d->api = &api;
    hopt.max_body_bytes = (size_t)f->max_body_bytes;
    hopt.connection_timeout_s = (unsigned)f->read_timeout_s;
    hopt.connection_limit = connection_limit((unsigned)f->max_connections);
    /* 0: a quarter of the table, so one host cannot take it all */
    hopt.per_address_limit = f->max_conns_per_address > 0 ? (unsigned)f->max_conns_per_address
                                                          : (hopt.connection_limit + 3) / 4;
    hopt.metrics = api.http_metrics;
    for (size_t i = 0; i < f->nlisten; i++) {
        if (http_server_start(f->listen[i], &hopt, api_handle, &api, &servers[i], &err) != AR_OK) {
            log_error("http", "%s", err.msg);
            goto stop;
        }
        log_info("http", "listening on %s (port %u)", f->listen[i], http_server_port(servers[i]));
    }
    log_info("main", "alertrouter %s ready; storage %s, external URL %s", AR_VERSION,
             f->storage_path, external_url);
    for (;;) {
        int sig = 0;
        if (sigwait(&sigs, &sig) != 0) {
            continue;
        }
        if (sig == SIGHUP) {
            reload(d, &err);
            continue;
        }
        log_info("main", "received signal %d, shutting down", sig);
        break;
    }
    rc = 0;
stop:
    for (size_t i = 0; i < f->nlisten; i++) {
        http_server_stop(servers[i]); /* waits for in-flight requests */
    }
    ha_sync_stop(ha); /* before the core: the subscriber calls into it */
    core_stop(d->core);
out:
    ha_sync_free(ha); /* after the writer: the store's commit hook points at it */
    explicit_bzero(pg_password, sizeof(pg_password));
    core_free(d->core);
    notifier_free(notifier);
    store_close(st);
    config_unref(cfg);
    free(external_url);
    free(shown_url);
    free(prefix);
    ratelimit_free(api.ratelimit);
    http_metrics_free(api.http_metrics);
    if (rc == 0) {
        log_info("main", "stopped cleanly");
    }
    return rc;
}

/* glibc malloc: the working set only grows while alerts arrive and request buffers of
 * ~100 KB come and go on many threads; padding heap growth and not trimming eagerly keeps
 * brk/mmap and page faults off the ingest path. */
static void tune_malloc(void)
{
    mallopt(M_TOP_PAD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_MMAP_THRESHOLD, 8 << 20);
}

int main(int argc, char **argv)
{
    struct daemon d;
    struct ar_error err;
    enum log_level level;
    enum log_format format;

    if (getenv("AR_MALLOC_DEFAULTS") == NULL) {
        tune_malloc();
    }
    if (argc > 1 && strcmp(argv[1], "check-config") == 0) {
        return check_config(argc, argv);
    }
    if (argc > 1 && strcmp(argv[1], "template") == 0) {
        return tmpl_cli_main(argc - 1, argv + 1);
    }
    if (argc > 1 && strcmp(argv[1], "deliveries") == 0) {
        return cli_deliveries_main(argc - 1, argv + 1); /* durable outbox client */
    }
    if (argc > 1 && strcmp(argv[1], "history") == 0) {
        return cli_history_main(argc - 1, argv + 1); /* history client */
    }
    if (argc > 1 && strcmp(argv[1], "incident") == 0) {
        return cli_incidents_main(argc - 1, argv + 1); /* incident reports client */
    }
    if (argc > 1 && strcmp(argv[1], "test-receiver") == 0) {
        return cli_test_receiver_main(argc - 1, argv + 1);
    }
    memset(&d, 0, sizeof(d));
    pthread_mutex_init(&d.reload_mu, NULL);
    if (flags_parse(argc, argv, &d.flags, &err) != AR_OK) {
        fprintf(stderr, "alertrouter: error: %s\n\n", err.msg);
        flags_usage(stderr);
        return 2;
    }
    if (d.flags.show_help) {
        flags_usage(stdout);
        return 0;
    }
    if (d.flags.show_version) {
        printf("alertrouter, version %s (Alertmanager API v2 compatible: 0.25)\n", AR_VERSION);
        return 0;
    }
    if (log_level_parse(d.flags.log_level, &level) != AR_OK ||
        log_format_parse(d.flags.log_format, &format) != AR_OK) {
        fprintf(stderr, "alertrouter: error: invalid --log.level or --log.format\n\n");
        flags_usage(stderr);
        return 2;
    }
    log_setup(level, format);
    int rc = run_daemon(&d);
    pthread_mutex_destroy(&d.reload_mu);
    return rc;
}
