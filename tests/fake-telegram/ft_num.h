/* ft_num: strict number parsing for request parameters and flags: the whole
 * string must be the number, overflow is an error. */
#ifndef FT_NUM_H
#define FT_NUM_H
#include <stdint.h>

/** Parses an optionally signed decimal integer; 0 on success, -1 otherwise. */
int ft_num_i64(const char *s, int64_t *out);
/** Parses an unsigned decimal integer; 0 on success, -1 otherwise. */
int ft_num_u64(const char *s, uint64_t *out);
/** Parses a finite decimal floating point number; 0 on success, -1 otherwise. */
int ft_num_double(const char *s, double *out);

#endif
