/* ft_download: file downloads. */
#include "ft_download.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ft_api.h"
#include "ft_fault.h"
#include "ft_http.h"
#include "ft_num.h"
#include "ft_range.h"
#include "ft_time.h"

#define BLOCK_SIZE (64 * 1024)

/* State of one body being streamed. */
struct dl {
  int fd;
  uint64_t first;        /* file offset of body byte 0 */
  uint64_t len;          /* body length announced */
  int truncate;
  uint64_t truncate_at;  /* body bytes to send before closing */
  uint64_t bandwidth;
  double t0;
  struct ft_stats *stats;
};

static ssize_t dl_read(void *cls, uint64_t pos, char *buf, size_t max)
{
  struct dl *d = cls;
  uint64_t limit;
  ssize_t n;

  if(pos >= d->len)
    return MHD_CONTENT_READER_END_OF_STREAM;
  limit = d->len - pos;
  if(d->truncate) {
    if(pos >= d->truncate_at)
      return MHD_CONTENT_READER_END_WITH_ERROR; /* MHD closes mid-body */
    if(limit > d->truncate_at - pos)
      limit = d->truncate_at - pos;
  }
  if(d->bandwidth) {
    /* small pieces keep a capped stream smooth */
    uint64_t piece = d->bandwidth / 20 < 4096 ? 4096 : d->bandwidth / 20;
    if(limit > piece)
      limit = piece;
  }
  if(max > limit)
    max = (size_t)limit;
  n = pread(d->fd, buf, max, (off_t)(d->first + pos));
  if(n <= 0)
    return MHD_CONTENT_READER_END_WITH_ERROR;
  ft_stats_add(d->stats, FT_STAT_BYTES_OUT, (uint64_t)n);
  ft_time_pace(d->t0, pos + (uint64_t)n, d->bandwidth);
  return n;
}

static void dl_free(void *cls)
{
  struct dl *d = cls;
  if(d->fd >= 0)
    close(d->fd);
  free(d);
}

/* Maps a file_path to a stored file number: documents/file_<no>[.ext], or
 * the absolute path local mode hands out. 0 when it names nothing. */
static uint64_t path_to_no(struct ft_req *r)
{
  const char *p = r->path;
  char digits[24];
  size_t n, dlen;
  uint64_t no;

  dlen = strlen(r->app->store.dir);
  if(!strncmp(p, "documents/file_", 15))
    p += 15;
  else if(p[0] == '/' && !strncmp(p, r->app->store.dir, dlen) && !strncmp(p + dlen, "/files/", 7))
    p += dlen + 7;
  else
    return 0;
  n = strspn(p, "0123456789");
  if(!n || n >= sizeof(digits) || (p[n] && p[n] != '.'))
    return 0;
  if(p[n] == '.' && (strchr(p + n + 1, '/') || strchr(p + n + 1, '.')))
    return 0;
  memcpy(digits, p, n);
  digits[n] = '\0';
  return ft_num_u64(digits, &no) ? 0 : no;
}

static enum MHD_Result not_found(struct ft_req *r)
{
  ft_stats_add(&r->app->stats, FT_STAT_ERRORS, 1);
  return ft_http_error(r->conn, 404, "Not Found");
}

enum MHD_Result ft_download_serve(struct ft_req *r)
{
  struct ft_app *app = r->app;
  struct ft_file_info f;
  struct ft_fault_plan plan;
  struct MHD_Response *resp;
  enum MHD_Result ret;
  enum ft_range_result rr;
  char path[PATH_MAX + 32], hdr[96];
  uint64_t no, first = 0, last = 0;
  struct dl *d = NULL;

  ft_stats_add(&app->stats, FT_STAT_REQUESTS, 1);
  ft_stats_add(&app->stats, FT_STAT_DOWNLOAD, 1);
  ft_time_sleep(r->rt.latency_ms / 1000.0);
  if(!r->token_ok) {
    ft_stats_add(&app->stats, FT_STAT_ERRORS, 1);
    return ft_http_error(r->conn, 401, "Unauthorized");
  }
  no = path_to_no(r);
  if(!no || ft_store_file(&app->store, no, &f) || f.bot_id != r->bot_id)
    return not_found(r);

  rr = ft_range_parse(MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE),
                      f.size, &first, &last);
  if(rr == FT_RANGE_UNSATISFIABLE) {
    ft_stats_add(&app->stats, FT_STAT_ERRORS, 1);
    resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if(!resp)
      return MHD_NO;
    snprintf(hdr, sizeof(hdr), "bytes */%llu", (unsigned long long)f.size);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, hdr);
    ret = MHD_queue_response(r->conn, MHD_HTTP_RANGE_NOT_SATISFIABLE, resp);
    MHD_destroy_response(resp);
    return ret;
  }
  if(rr == FT_RANGE_NONE) {
    first = 0;
    last = f.size ? f.size - 1 : 0;
  }

  ft_fault_draw(&r->rt, 1, f.size ? last - first + 1 : 0, &plan);
  if(plan.count)
    ft_stats_add(&app->stats, FT_STAT_FAULTS, (uint64_t)plan.count);
  if(plan.drop)
    return MHD_NO;
  ft_time_sleep(plan.slow_ms / 1000.0);
  if(plan.fail_status)
    return ft_api_fault_answer(r, &plan);

  d = calloc(1, sizeof(*d));
  if(!d)
    return MHD_NO;
  ft_store_data_path(&app->store, no, path, sizeof(path));
  d->fd = open(path, O_RDONLY | O_CLOEXEC);
  if(d->fd < 0) {
    free(d);
    return not_found(r);
  }
  d->first = first;
  d->len = f.size ? last - first + 1 : 0;
  d->truncate = plan.truncate;
  d->truncate_at = plan.truncate_at;
  d->bandwidth = r->rt.bandwidth;
  d->t0 = ft_time_mono();
  d->stats = &app->stats;
  resp = MHD_create_response_from_callback(d->len, BLOCK_SIZE, dl_read, d, dl_free);
  if(!resp) {
    dl_free(d);
    return MHD_NO;
  }
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
  MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
  MHD_add_response_header(resp, MHD_HTTP_HEADER_SERVER, "nginx/1.18.0");
  if(rr == FT_RANGE_OK) {
    snprintf(hdr, sizeof(hdr), "bytes %llu-%llu/%llu", (unsigned long long)first,
             (unsigned long long)last, (unsigned long long)f.size);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, hdr);
  }
  ret = MHD_queue_response(r->conn, rr == FT_RANGE_OK ? MHD_HTTP_PARTIAL_CONTENT : MHD_HTTP_OK,
                           resp);
  MHD_destroy_response(resp);
  return ret;
}
