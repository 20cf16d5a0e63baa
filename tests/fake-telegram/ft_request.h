/* ft_request: one HTTP request from its first callback to its completion:
 * the route it targets, a snapshot of the runtime settings, and its body,
 * parsed as it streams in. Text parameters land in `params`; file parts of a
 * multipart body go straight to temporary files under DIR/tmp, hashed on the
 * way. Problems found in the body are remembered and answered at the end. */
#ifndef FT_REQUEST_H
#define FT_REQUEST_H
#include <limits.h>
#include <microhttpd.h>
#include <openssl/evp.h>
#include <stdint.h>

#include "ft_app.h"
#include "ft_buf.h"
#include "ft_multipart.h"
#include "ft_params.h"

#define FT_UPLOADS_MAX 4            /* file parts kept per request */
#define FT_TEXT_BODY_MAX (1 << 20)  /* urlencoded / JSON bodies */
#define FT_UPLOAD_OVERHEAD (1 << 20) /* multipart framing allowed beyond the file limit */

enum ft_route { FT_ROUTE_NOT_FOUND, FT_ROUTE_API, FT_ROUTE_FILE, FT_ROUTE_CONTROL };
enum ft_body { FT_BODY_NONE, FT_BODY_TEXT, FT_BODY_JSON, FT_BODY_MULTIPART, FT_BODY_DISCARD };

/** One file part received to disk. */
struct ft_upload {
  char part_name[FT_MP_NAME_MAX];
  char file_name[FT_MP_FILENAME_MAX];
  char mime[FT_MP_CTYPE_MAX];
  char tmp_path[PATH_MAX];  /* empty once moved into the store */
  int fd;
  uint64_t size;
  EVP_MD_CTX *sha;
  char sha256[65];          /* hex, set when the part ends */
};

struct ft_req {
  struct ft_app *app;
  struct MHD_Connection *conn;
  const char *http_method;
  enum ft_route route;
  char token[FT_TOKEN_MAX + 1];
  int token_ok;             /* well-formed and not denied */
  int64_t bot_id;
  char method[64];          /* Bot API method, or the control route name */
  char path[PATH_MAX];      /* file route: the file_path part */
  struct ft_runtime rt;     /* settings snapshot taken at the start */
  double t_start;           /* monotonic time of the first callback */
  enum ft_body body;
  int want_files;           /* keep file parts (sendDocument only) */
  struct ft_buf text;       /* urlencoded / JSON / control bodies */
  struct ft_mp mp;
  struct ft_params params;
  struct ft_upload up[FT_UPLOADS_MAX];
  size_t nup;
  struct ft_upload *cur;    /* file part being received, or NULL */
  char cur_param[FT_MP_NAME_MAX]; /* text part being received */
  int in_param;
  uint64_t received;        /* body bytes so far */
  int too_large;            /* answer 413 */
  unsigned err_code;        /* deferred error answer, 0 = none */
  char err_desc[128];
};

/** Creates the context at the first callback (routes the URL); NULL on OOM. */
struct ft_req *ft_req_new(struct ft_app *app, struct MHD_Connection *conn, const char *url,
                          const char *http_method);
/** Frees the context, removing upload files not moved into the store. */
void ft_req_free(struct ft_req *r);
/** Inspects the headers and prepares body parsing (an announced oversized
 *  body sets too_large and is discarded). */
void ft_req_begin_body(struct ft_req *r);
/** Consumes one piece of the body (bandwidth-capped). */
void ft_req_feed(struct ft_req *r, const char *data, size_t len);
/** Ends the body: parses buffered parameters and closes upload files. */
void ft_req_end_body(struct ft_req *r);
/** Records the first error found in the body (later ones are ignored). */
void ft_req_fail(struct ft_req *r, unsigned code, const char *desc);
/** The upload behind file part `name`, or NULL. */
struct ft_upload *ft_req_upload(struct ft_req *r, const char *name);

#endif
