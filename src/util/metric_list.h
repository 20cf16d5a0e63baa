/* metric_list: every metric NetraDrive exports, in one place (docs/API.md,
 * "Metrics", describes each). The layers update them through util/metrics.h;
 * api/metrics_routes.c sets the gauges read at scrape time and renders. */
#ifndef NETRA_METRIC_LIST_H
#define NETRA_METRIC_LIST_H
#include "util/metrics.h"

/* http */
extern struct metric_family metric_http_requests;       /* {route,method,status} */
extern struct metric_family metric_http_duration;       /* {route,method} histogram */
extern struct metric_family metric_http_received_bytes; /* {route} */
extern struct metric_family metric_http_sent_bytes;     /* {route} */
extern struct metric_family metric_http_in_flight;
extern struct metric_family metric_http_connections;    /* accepted, counter */
extern struct metric_family metric_http_open_connections;
extern struct metric_family metric_websockets_open;
/* storage */
extern struct metric_family metric_storage_calls;        /* {backend,op} */
extern struct metric_family metric_storage_errors;       /* {backend,kind} */
extern struct metric_family metric_storage_retries;      /* {backend,reason} */
extern struct metric_family metric_storage_rate_limited; /* {backend} */
extern struct metric_family metric_cache_hits;
extern struct metric_family metric_cache_misses;
extern struct metric_family metric_cache_fill_bytes;
extern struct metric_family metric_cache_bytes;          /* gauge */
/* tasks */
extern struct metric_family metric_tasks;                /* {state} gauge */
extern struct metric_family metric_tasks_finished;       /* {state} counter */
/* database */
extern struct metric_family metric_db_errors;            /* {kind} */
extern struct metric_family metric_db_busy_waits;
extern struct metric_family metric_db_checkpoints;     /* {by} */
/* drive */
extern struct metric_family metric_folder_trees;         /* {walk} */

/** Every family above, in rendering order, NULL-terminated. */
extern struct metric_family *const metric_all[];

#endif
