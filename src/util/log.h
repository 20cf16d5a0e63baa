/* log: leveled, thread-safe logging to stderr, one line per call, as text
 * (default) or one JSON object per line (LOG_FORMAT=json). Whatever a
 * message holds, a control byte never reaches the output as such (text:
 * \xNN; JSON: \u00NN), so text taken from a request cannot forge a line. */
#ifndef NETRA_LOG_H
#define NETRA_LOG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_TEXT = 0, LOG_JSON };

/** Sets the minimum level printed (default LOG_INFO). */
void log_set_level(enum log_level lvl);
/** Text (default) or JSON lines. */
void log_set_format(enum log_format f);
/** True when a message at `lvl` would be printed. */
bool log_enabled(enum log_level lvl);
/** Parses "debug|info|warn|warning|error"; returns -1 when unknown. */
int log_level_parse(const char *s);
/** Parses "text|json"; returns -1 when unknown. */
int log_format_parse(const char *s);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** One named value of a structured record: text ('s', NULL = none), integer
 *  ('i') or real ('f'). */
struct log_field {
  const char *key;
  char kind;
  const char *str;
  int64_t num;
  double real;
};
#define LOG_STR(k, v) {.key = (k), .kind = 's', .str = (v)}
#define LOG_INT(k, v) {.key = (k), .kind = 'i', .num = (int64_t)(v)}
#define LOG_REAL(k, v) {.key = (k), .kind = 'f', .real = (v)}
/** A record: `msg` and then key=value pairs (text) or members (JSON). */
void log_fields(enum log_level lvl, const char *msg, const struct log_field *f, size_t n);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
