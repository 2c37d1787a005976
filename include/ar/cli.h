/* Client subcommands that talk to a running alertrouter over its HTTP API (libcurl). */
#ifndef AR_CLI_H
#define AR_CLI_H

#include <stddef.h>

/* alertrouter test-receiver NAME [--alertmanager.url=URL] [--data=FILE]: asks the server to
 * send a sample notification through every integration of NAME and prints each outcome.
 * argv[0] is "test-receiver". Exit status 0 when every integration succeeded. */
int cli_test_receiver_main(int argc, char **argv);

/* alertrouter deliveries list|replay ... (argv[0] is "deliveries"; cli_deliveries.c): lists
 * the durable outbox or replays a dead delivery. Exit status. */
int cli_deliveries_main(int argc, char **argv);
/* alertrouter incident report ID [--format=markdown|html|json] [--alertmanager.url=URL]
 * (argv[0] is "incident"; cli_incidents.c): prints the incident's report. Exit status. */
int cli_incidents_main(int argc, char **argv);

/* alertrouter history alerts|notifications [--filter=...] ... (argv[0] is "history";
 * cli_history.c): prints a page of the alert or notification history and the --cursor of
 * the next one. Exit status. */
int cli_history_main(int argc, char **argv);

/* Performs one HTTP request; *out gets the body. Returns the HTTP status, or -1 with a message
 * in err on a transport error. Shared by the client subcommands. */
struct buf;
long cli_http(const char *method, const char *url, const char *body, struct buf *out, char *err,
              size_t errsz);

#endif
