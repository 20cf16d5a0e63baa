/* ft_range: the Range request header (RFC 9110 section 14). Only a single
 * byte range is honoured; anything else is ignored, which the RFC allows. */
#ifndef FT_RANGE_H
#define FT_RANGE_H
#include <stdint.h>

enum ft_range_result {
  FT_RANGE_NONE = 0,        /* no usable Range: send the whole body (200) */
  FT_RANGE_OK,              /* send [first, last] (206) */
  FT_RANGE_UNSATISFIABLE    /* 416 with Content-Range: bytes * / size */
};

/** Interprets header value `hdr` (may be NULL) for a body of `size` bytes. */
enum ft_range_result ft_range_parse(const char *hdr, uint64_t size, uint64_t *first,
                                    uint64_t *last);

#endif
