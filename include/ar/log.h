/* Logging: one line per event, logfmt by default or JSON, to stderr.
 * log_info("store", "applied migration %s", name) writes
 *   ts=2026-11-29T09:00:00.000Z level=info component=store msg="applied migration 0001_x.sql"
 * The macros check the level before formatting. Never pass secrets. */
#ifndef AR_LOG_H
#define AR_LOG_H

enum log_level { LOG_LEVEL_DEBUG = 0, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };
enum log_format { LOG_FORMAT_LOGFMT = 0, LOG_FORMAT_JSON };

extern enum log_level log_min_level;

/* Parses "debug|info|warn|error" / "logfmt|json"; returns AR_OK or AR_EINVAL. */
int log_level_parse(const char *s, enum log_level *out);
int log_format_parse(const char *s, enum log_format *out);
void log_setup(enum log_level level, enum log_format format);

void log_write(enum log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_at(lvl, comp, ...)                                                                     \
    do {                                                                                           \
        if ((lvl) >= log_min_level) {                                                              \
            log_write((lvl), (comp), __VA_ARGS__);                                                 \
        }                                                                                          \
    } while (0)
#define log_debug(comp, ...) log_at(LOG_LEVEL_DEBUG, comp, __VA_ARGS__)
#define log_info(comp, ...)  log_at(LOG_LEVEL_INFO, comp, __VA_ARGS__)
#define log_warn(comp, ...)  log_at(LOG_LEVEL_WARN, comp, __VA_ARGS__)
#define log_error(comp, ...) log_at(LOG_LEVEL_ERROR, comp, __VA_ARGS__)

#endif
