/* metric_list: see metric_list.h. Capacities bound each family's label sets:
 * route templates (about 70) x methods x statuses stay well under them. */
#include <stddef.h>
#include "util/metric_list.h"

/* Latency buckets: a listing from cache takes well under a millisecond, a
 * big upload or a download minutes. */
static const double http_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                      0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

METRIC_FAMILY(metric_http_requests, "netradrive_http_requests_total",
              "HTTP requests by route template, method and status.", METRIC_COUNTER, 1024, 3,
              "route", "method", "status");
static struct metric_series metric_http_duration_series[256];
struct metric_family metric_http_duration = {
  .name = "netradrive_http_request_duration_seconds",
  .help = "Time from a request's headers to the end of its reply, by route template and method.",
  .type = METRIC_HISTOGRAM, .nlabels = 2, .labels = {"route", "method"},
  .bounds = http_buckets, .nbounds = (int)(sizeof(http_buckets) / sizeof(http_buckets[0])),
  .cap = 256, .series = metric_http_duration_series};
METRIC_FAMILY(metric_http_received_bytes, "netradrive_http_received_bytes_total",
              "Request body bytes received, by route template.", METRIC_COUNTER, 128, 1, "route");
METRIC_FAMILY(metric_http_sent_bytes, "netradrive_http_sent_bytes_total",
              "Reply body bytes sent (the length of each completed reply's body), by route template.",
              METRIC_COUNTER, 128, 1, "route");
METRIC_FAMILY(metric_http_in_flight, "netradrive_http_requests_in_flight",
              "Requests being served.", METRIC_GAUGE, 1, 0);
METRIC_FAMILY(metric_http_connections, "netradrive_http_connections_total",
              "HTTP connections accepted.", METRIC_COUNTER, 1, 0);
METRIC_FAMILY(metric_http_open_connections, "netradrive_http_open_connections",
              "HTTP connections open (WebSockets included until they close).", METRIC_GAUGE, 1, 0);
METRIC_FAMILY(metric_websockets_open, "netradrive_websockets_open",
              "Task WebSockets open.", METRIC_GAUGE, 1, 0);

METRIC_FAMILY(metric_storage_calls, "netradrive_storage_calls_total",
              "Storage backend calls by backend and operation (Telegram: each Bot API exchange, "
              "retries included).", METRIC_COUNTER, 64, 2, "backend", "op");
METRIC_FAMILY(metric_storage_errors, "netradrive_storage_errors_total",
              "Failed storage backend calls by backend and kind.", METRIC_COUNTER, 64, 2,
              "backend", "kind");
METRIC_FAMILY(metric_storage_retries, "netradrive_storage_retries_total",
              "Storage backend calls retried, by backend and reason.", METRIC_COUNTER, 32, 2,
              "backend", "reason");
METRIC_FAMILY(metric_storage_rate_limited, "netradrive_storage_rate_limited_total",
              "Rate-limit answers (HTTP 429) from the storage backend.", METRIC_COUNTER, 8, 1,
              "backend");
METRIC_FAMILY(metric_cache_hits, "netradrive_cache_hits_total",
              "Chunk reads served from a complete cache entry.", METRIC_COUNTER, 1, 0);
METRIC_FAMILY(metric_cache_misses, "netradrive_cache_misses_total",
              "Chunk reads that had to fetch the chunk from the backend.", METRIC_COUNTER, 1, 0);
METRIC_FAMILY(metric_cache_fill_bytes, "netradrive_cache_fill_bytes_total",
              "Bytes fetched from the backend into the chunk cache.", METRIC_COUNTER, 1, 0);
METRIC_FAMILY(metric_cache_bytes, "netradrive_cache_bytes",
              "Bytes the chunk cache holds on disk.", METRIC_GAUGE, 1, 0);

METRIC_FAMILY(metric_tasks, "netradrive_tasks",
              "Tasks running now, by state (queued, in_progress).",
              METRIC_GAUGE, 8, 1, "state");
METRIC_FAMILY(metric_tasks_finished, "netradrive_tasks_finished_total",
              "Tasks that reached a final state, by state.", METRIC_COUNTER, 8, 1, "state");

METRIC_FAMILY(metric_db_errors, "netradrive_db_errors_total",
              "Database statements that failed, by kind.", METRIC_COUNTER, 16, 1, "kind");
METRIC_FAMILY(metric_db_busy_waits, "netradrive_db_busy_waits_total",
              "Waits for a database lock held by another connection (SQLITE_BUSY).",
              METRIC_COUNTER, 1, 0);
METRIC_FAMILY(metric_db_checkpoints, "netradrive_db_checkpoints_total",
              "SQLite WAL checkpoints, by who ran them: the checkpoint thread, or a commit.",
              METRIC_COUNTER, 4, 1, "by");
/* drive */
METRIC_FAMILY(metric_folder_trees, "netradrive_folder_trees_total",
              "Folder trees served, by how they were read: keyed or walked.", METRIC_COUNTER, 4, 1,
              "walk");

struct metric_family *const metric_all[] = {
  &metric_http_requests, &metric_http_duration, &metric_http_received_bytes,
  &metric_http_sent_bytes, &metric_http_in_flight, &metric_http_connections,
  &metric_http_open_connections, &metric_websockets_open,
  &metric_storage_calls, &metric_storage_errors, &metric_storage_retries,
  &metric_storage_rate_limited, &metric_cache_hits, &metric_cache_misses,
  &metric_cache_fill_bytes, &metric_cache_bytes,
  &metric_tasks, &metric_tasks_finished,
  &metric_db_errors, &metric_db_busy_waits, &metric_db_checkpoints,
  &metric_folder_trees,
  NULL,
};

int metrics_render(buf_t *out)
{
  int rc = BUF_OK;
  for(size_t i = 0; metric_all[i] && rc == BUF_OK; i++)
    rc = metric_render_family(out, metric_all[i]);
  if(rc == BUF_OK)
    rc = metrics_render_process(out);
  return rc;
}
