/* process_* metrics (ar/process_metrics.h), Linux /proc, and the heap gauges from glibc's
 * mallinfo2. A value that cannot be read is left out rather than reported as 0. */
#include "ar/process_metrics.h"

#include <dirent.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static void head(struct buf *b, const char *name, const char *type, const char *help)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static long open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    long n = 0;

    if (d == NULL) {
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.') {
            n++;
        }
    }
    closedir(d);
    return n - 1; /* the directory stream's own descriptor */
}

/* Start time in seconds since the epoch: /proc/self/stat's starttime (field 22, clock ticks
 * after boot) plus /proc/stat's btime. */
static double start_time_s(void)
{
    char line[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    unsigned long long start_ticks = 0;
    unsigned long long btime = 0;
    const char *p;
    long hz = sysconf(_SC_CLK_TCK);
    bool ok = false;

    if (f == NULL) {
        return -1;
    }
    if (fgets(line, sizeof(line), f) != NULL && (p = strrchr(line, ')')) != NULL) {
        /* after "pid (comm)": field 3 is the state; starttime is field 22 */
        ok = sscanf(p + 2,
                    "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
                    "%*d %*d %llu",
                    &start_ticks) == 1;
    }
    fclose(f);
    f = fopen("/proc/stat", "r");
    if (!ok || f == NULL || hz <= 0) {
        if (f != NULL) {
            fclose(f);
        }
        return -1;
    }
    ok = false;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "btime %llu", &btime) == 1) {
            ok = true;
            break;
        }
    }
    fclose(f);
    return ok ? (double)btime + (double)start_ticks / (double)hz : -1;
}

void process_metrics_write(struct buf *b)
{
    struct rusage ru;
    struct rlimit rl;
    long fds = open_fds();
    long page = sysconf(_SC_PAGESIZE);
    unsigned long long vm_pages = 0;
    unsigned long long rss_pages = 0;
    double started = start_time_s();
    FILE *f;

    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        head(b, "process_cpu_seconds_total", "counter",
             "Total user and system CPU time spent in seconds.");
        buf_printf(b, "process_cpu_seconds_total %.6f\n",
                   (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        head(b, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
        buf_printf(b, "process_max_fds %.17g\n", (double)rl.rlim_cur);
    }
    if (fds >= 0) {
        head(b, "process_open_fds", "gauge", "Number of open file descriptors.");
        buf_printf(b, "process_open_fds %ld\n", fds);
    }
    f = fopen("/proc/self/statm", "r");
    if (f != NULL && page > 0 && fscanf(f, "%llu %llu", &vm_pages, &rss_pages) == 2) {
        head(b, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
        buf_printf(b, "process_resident_memory_bytes %llu\n", rss_pages * (unsigned long long)page);
    }
    if (started >= 0) {
        head(b, "process_start_time_seconds", "gauge",
             "Start time of the process since unix epoch in seconds.");
        buf_printf(b, "process_start_time_seconds %.2f\n", started);
    }
    if (f != NULL && vm_pages > 0) {
        head(b, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
        buf_printf(b, "process_virtual_memory_bytes %llu\n", vm_pages * (unsigned long long)page);
    }
    if (f != NULL) {
        fclose(f);
    }
    {
        /* the allocator's own view: what the heap holds for live objects against what the
         * process keeps mapped but free (RSS minus these two is code, stacks, SQLite's cache) */
        struct mallinfo2 mi = mallinfo2();

        head(b, "alertrouter_heap_inuse_bytes", "gauge",
             "Bytes of the C heap (main arena and thread arenas) held by live allocations.");
        buf_printf(b, "alertrouter_heap_inuse_bytes %zu\n", mi.uordblks + mi.hblkhd);
        head(b, "alertrouter_heap_free_bytes", "gauge",
             "Bytes of the C heap free but still mapped (returned to the system by malloc_trim).");
        buf_printf(b, "alertrouter_heap_free_bytes %zu\n", mi.fordblks);
    }
    if (getrlimit(RLIMIT_AS, &rl) == 0) {
        /* COMPAT: unlimited is the largest uint64, printed as a float as Go does */
        head(b, "process_virtual_memory_max_bytes", "gauge",
             "Maximum amount of virtual memory available in bytes.");
        buf_printf(b, "process_virtual_memory_max_bytes %.17g\n", (double)rl.rlim_cur);
    }
}
