/* The process_* families every Prometheus Go client exports (COMPAT 10): CPU time, file
 * descriptors, memory, start time; read from getrusage, getrlimit and /proc at each scrape. */
#ifndef AR_PROCESS_METRICS_H
#define AR_PROCESS_METRICS_H

#include "ar/buf.h"

void process_metrics_write(struct buf *b);

#endif
