/* ft_multipart: a streaming multipart/form-data parser (RFC 7578).
 *
 * Bytes go in with ft_mp_feed in pieces of any size; part headers and part
 * data come out through callbacks, so an upload is written to disk as it
 * arrives and never held whole in memory. Memory use is one fixed buffer. */
#ifndef FT_MULTIPART_H
#define FT_MULTIPART_H
#include <stddef.h>

#define FT_MP_BOUNDARY_MAX 70      /* RFC 2046 */
#define FT_MP_BUF 16384            /* also the longest block of part headers */
#define FT_MP_NAME_MAX 128
#define FT_MP_FILENAME_MAX 512
#define FT_MP_CTYPE_MAX 128

#define FT_MP_EMALFORMED (-1)      /* the body is not valid multipart */

/** Headers of one part. */
struct ft_mp_part {
  char name[FT_MP_NAME_MAX];
  char filename[FT_MP_FILENAME_MAX];
  int has_filename;               /* a filename parameter was present: a file */
  char content_type[FT_MP_CTYPE_MAX];
};

/** Callbacks; a non-zero return stops parsing and is returned by ft_mp_feed. */
struct ft_mp_callbacks {
  int (*begin)(void *ud, const struct ft_mp_part *part);
  int (*data)(void *ud, const char *data, size_t len);
  int (*end)(void *ud);
};

struct ft_mp {
  int state;
  char delim[FT_MP_BOUNDARY_MAX + 5];  /* "\r\n--" boundary */
  size_t delim_len;
  char buf[FT_MP_BUF];
  size_t used;
  struct ft_mp_part part;
  struct ft_mp_callbacks cb;
  void *ud;
};

/** Extracts parameter `key` (case-insensitive) from a header value such as
 *  `form-data; name="x"`, unquoting it. 1 found, 0 absent, -1 malformed or
 *  longer than outsz-1. */
int ft_mp_header_param(const char *value, const char *key, char *out, size_t outsz);
/** Starts a parser for the Content-Type header value `content_type`;
 *  -1 when it is not multipart/form-data with a valid boundary. */
int ft_mp_init(struct ft_mp *mp, const char *content_type, const struct ft_mp_callbacks *cb,
               void *ud);
/** Feeds body bytes; 0, FT_MP_EMALFORMED or a callback's non-zero code. */
int ft_mp_feed(struct ft_mp *mp, const char *data, size_t len);
/** Call at end of body: 0 when the closing boundary was seen, else FT_MP_EMALFORMED. */
int ft_mp_finish(struct ft_mp *mp);

#endif
