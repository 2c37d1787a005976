/* Unit tests for --storage.url masking and the password file (ar/pg_url.h): every libpq form
 * that can carry a password shows PG_URL_MASK instead, the rest of the text unchanged. */
#include "ar/pg_url.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void check_mask(const char *in, const char *want)
{
    char out[512];

    pg_url_mask(in, out, sizeof(out));
    CHECK_STR(out, want);
    CHECK(strstr(out, "s3cr3t") == NULL);
}

static void test_uri(void)
{
    CHECK(pg_url_is_uri("postgresql://h/db"));
    CHECK(pg_url_is_uri("postgres://h/db"));
    CHECK(!pg_url_is_uri("host=h dbname=db"));
    check_mask("postgresql://u:s3cr3t@db.example:5432/ar?sslmode=verify-full",
               "postgresql://u:xxxxx@db.example:5432/ar?sslmode=verify-full");
    check_mask("postgres://u@h/ar", "postgres://u@h/ar");
    check_mask("postgres://h/ar", "postgres://h/ar");
    check_mask("postgresql://", "postgresql://");
    check_mask("postgresql://u:s3cr3t@h1:5432,h2:5433/ar?target_session_attrs=read-write",
               "postgresql://u:xxxxx@h1:5432,h2:5433/ar?target_session_attrs=read-write");
    check_mask("postgresql://h/ar?user=u&password=s3cr3t&sslmode=require",
               "postgresql://h/ar?user=u&password=xxxxx&sslmode=require");
    check_mask("postgresql://h/ar?password=s3cr3t", "postgresql://h/ar?password=xxxxx");
    /* an '@' after the first '/' is not a credential separator (libpq's reading) */
    check_mask("postgresql://h/a@b", "postgresql://h/a@b");
    /* an empty password still shows the mask: whether one was given is not told */
    check_mask("postgresql://u:@h/ar", "postgresql://u:xxxxx@h/ar");
}

static void test_kv(void)
{
    check_mask("host=h dbname=ar user=u password=s3cr3t sslmode=require",
               "host=h dbname=ar user=u password=xxxxx sslmode=require");
    check_mask("host = h password = 's3cr3t with spaces' port=5432",
               "host = h password = 'xxxxx' port=5432");
    check_mask("password='it\\'s s3cr3t' host=h", "password='xxxxx' host=h");
    check_mask("password=s3cr3t\\ x host=h", "password=xxxxx host=h");
    check_mask("dbname=ar", "dbname=ar");
    check_mask("", "");
    /* unparsable: the rest is masked whole */
    check_mask("host=h password='s3cr3t", "host=h xxxxx");
    check_mask("host=h s3cr3t", "host=h xxxxx");
    check_mask("s3cr3t", "xxxxx");
}

static void test_truncation(void)
{
    char out[16];

    pg_url_mask("postgresql://u:s3cr3t@host/db", out, sizeof(out));
    CHECK_STR(out, "postgresql://u:");
    pg_url_mask("postgresql://u:s3cr3t@host/db", out, 1);
    CHECK_STR(out, "");
}

static void test_password_file(void)
{
    char dir[] = "/tmp/ar-pgurl-XXXXXX";
    char path[64];
    char pw[16];
    struct ar_error err;
    FILE *f;

    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/pw", dir);
    CHECK_INT(pg_url_read_password_file(path, pw, sizeof(pw), &err), AR_EIO);
    CHECK(strstr(err.msg, path) != NULL);

    f = fopen(path, "w");
    fputs("s3cr3t\r\nsecond line\n", f);
    fclose(f);
    CHECK_INT(pg_url_read_password_file(path, pw, sizeof(pw), &err), AR_OK);
    CHECK_STR(pw, "s3cr3t");

    f = fopen(path, "w");
    fputs("no newline", f);
    fclose(f);
    CHECK_INT(pg_url_read_password_file(path, pw, sizeof(pw), &err), AR_OK);
    CHECK_STR(pw, "no newline");

    f = fopen(path, "w");
    fputs("\nlater", f);
    fclose(f);
    CHECK_INT(pg_url_read_password_file(path, pw, sizeof(pw), &err), AR_EINVAL);
    CHECK(strstr(err.msg, "empty") != NULL);

    f = fopen(path, "w");
    fclose(f);
    CHECK_INT(pg_url_read_password_file(path, pw, sizeof(pw), &err), AR_EINVAL);

    f = fopen(path, "w");
    fputs("s3cr3t-but-far-too-long-for-the-buffer\n", f);
    fclose(f);
    CHECK_INT(pg_url_read_password_file(path, pw, sizeof(pw), &err), AR_EINVAL);
    CHECK(strstr(err.msg, "longer") != NULL);
    CHECK(strstr(err.msg, "s3cr3t") == NULL);

    unlink(path);
    rmdir(dir);
}

int main(void)
{
    test_uri();
    test_kv();
    test_truncation();
    test_password_file();
    return CHECK_DONE();
}
