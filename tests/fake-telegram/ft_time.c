/* ft_time: clocks and sleeping. */
#include "ft_time.h"

#include <errno.h>
#include <time.h>

double ft_time_mono(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t ft_time_unix(void)
{
  return (int64_t)time(NULL);
}

void ft_time_sleep(double seconds)
{
  struct timespec ts;

  if(!(seconds > 0))
    return;
  if(seconds > 3600)
    seconds = 3600; /* a config typo must not hang a test run for days */
  ts.tv_sec = (time_t)seconds;
  ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
  while(nanosleep(&ts, &ts) == -1 && errno == EINTR)
    ;
}

void ft_time_pace(double start, uint64_t bytes, uint64_t rate)
{
  double due;

  if(!rate)
    return;
  due = start + (double)bytes / (double)rate;
  ft_time_sleep(due - ft_time_mono());
}
