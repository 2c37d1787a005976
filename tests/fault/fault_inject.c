/* Storage fault injection for the end-to-end tests (LD_PRELOAD; never linked into
 * alertrouter). While the file named by AR_FAULT_TRIGGER exists, every write, pwrite,
 * fsync and fdatasync on a file whose path starts with AR_FAULT_PREFIX fails with the errno
 * in AR_FAULT_ERRNO (default ENOSPC: a full disk). Removing the file ends the fault. SQLite
 * reaches the disk through these calls (its unix VFS looks them up by address, which
 * resolves to the interposed definitions below), so a test can fill the disk under a
 * running server and free it again without root, a small file system or a rebuilt SQLite.
 * Cost: a stat of the trigger per call, and a readlink per call while it exists. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef int (*sync_fn)(int);

/* The errno to fail with, or 0 when fd is not to fail now. */
static int fault_for(int fd)
{
    const char *trigger = getenv("AR_FAULT_TRIGGER");
    const char *prefix = getenv("AR_FAULT_PREFIX");
    const char *code = getenv("AR_FAULT_ERRNO");
    char link[64];
    char path[4096];
    struct stat st;
    ssize_t n;

    if (trigger == NULL || prefix == NULL || stat(trigger, &st) != 0) {
        return 0;
    }
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    n = readlink(link, path, sizeof(path) - 1);
    if (n <= 0) {
        return 0;
    }
    path[n] = '\0';
    if (strncmp(path, prefix, strlen(prefix)) != 0) {
        return 0;
    }
    return code != NULL ? atoi(code) : ENOSPC;
}

static void *next(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}

ssize_t write(int fd, const void *buf, size_t n)
{
    static write_fn real;
    int e = fault_for(fd);

    if (e != 0) {
        errno = e;
        return -1;
    }
    if (real == NULL) {
        real = (write_fn)next("write");
    }
    return real(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    static pwrite_fn real;
    int e = fault_for(fd);

    if (e != 0) {
        errno = e;
        return -1;
    }
    if (real == NULL) {
        real = (pwrite_fn)next("pwrite");
    }
    return real(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    static pwrite_fn real;
    int e = fault_for(fd);

    if (e != 0) {
        errno = e;
        return -1;
    }
    if (real == NULL) {
        real = (pwrite_fn)next("pwrite64");
    }
    return real(fd, buf, n, off);
}

int fsync(int fd)
{
    static sync_fn real;
    int e = fault_for(fd);

    if (e != 0) {
        errno = e;
        return -1;
    }
    if (real == NULL) {
        real = (sync_fn)next("fsync");
    }
    return real(fd);
}

int fdatasync(int fd)
{
    static sync_fn real;
    int e = fault_for(fd);

    if (e != 0) {
        errno = e;
        return -1;
    }
    if (real == NULL) {
        real = (sync_fn)next("fdatasync");
    }
    return real(fd);
}
