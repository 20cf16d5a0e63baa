/* human: sizes and durations for people, as the web UI shows them in tasks
 * (API §2: "12.34 MB", "1h 3m 5s", "N/A"). */
#ifndef NETRA_HUMAN_H
#define NETRA_HUMAN_H
#include <stdint.h>

/** Writes a 1024-based size: "0 B", "512 B", "12.34 KB", "1.00 GB"; units go
 *  B, KB, MB, GB, TB, PB. A value that would round to "1024.00" moves up a unit. */
void human_size(uint64_t bytes, char out[32]);

/** Writes a duration: "1h 3m 5s", "3m 5s", "5s", "0s"; "N/A" when negative. */
void human_duration(int64_t secs, char out[32]);

#endif
