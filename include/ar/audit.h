/* The audit trail (migrations/0004_audit.sql): API changes to core state recorded with time,
 * client address and authenticated user (which the HTTP layer decodes:
 * http_request_basic_user). Writes go in the same transaction as the change
 * (through txn_write); reads use a separate read-only SQLite connection, so queries never
 * wait for the writer (WAL). */
#ifndef AR_AUDIT_H
#define AR_AUDIT_H

#include "ar/buf.h"
#include "ar/common.h"

struct txn;

/* Queues an audit row in txn's transaction; strings are copied. detail_json may be NULL. */
void audit_record(struct txn *txn, const char *action, const char *object_id, const char *client,
                  const char *user, const char *detail_json);

/* Writes the newest `limit` rows (newest first) at or after since_ns as a JSON array to out,
 * reading <storage_dir>/alertrouter.db. AR_OK or AR_EDB. */
int audit_query(const char *storage_dir, int64_t since_ns, size_t limit, struct buf *out);

#endif
