/* metrics_process: the process_* metrics every Prometheus client library
 * exports, read from /proc at scrape time (Linux only). A file that cannot
 * be read leaves its metrics out rather than reporting zeros. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "util/metrics.h"

struct proc_stat {
  double cpu_seconds;
  long threads;
  double start_time;
  unsigned long long vsize;
  unsigned long long rss_bytes;
};

/* The boot time in seconds since the epoch (the "btime" line of /proc/stat). */
static long long boot_time(void)
{
  FILE *f = fopen("/proc/stat", "r");
  char line[256];
  long long bt = -1;
  if(!f)
    return -1;
  while(fgets(line, sizeof(line), f))
    if(sscanf(line, "btime %lld", &bt) == 1)
      break;
  fclose(f);
  return bt;
}

static int read_stat(struct proc_stat *ps)
{
  char text[1024];
  FILE *f = fopen("/proc/self/stat", "r");
  if(!f)
    return -1;
  size_t n = fread(text, 1, sizeof(text) - 1, f);
  fclose(f);
  text[n] = 0;
  /* The command name may hold spaces and ')': fields resume after the last ')'. */
  char *p = strrchr(text, ')');
  if(!p)
    return -1;
  unsigned long long utime, stime, start, vsize;
  long threads, rss;
  /* Fields 3.. : state ppid pgrp session tty tpgid flags minflt cminflt
   * majflt cmajflt utime stime cutime cstime priority nice threads
   * itrealvalue starttime vsize rss. */
  if(sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %ld "
            "%*d %llu %llu %ld", &utime, &stime, &threads, &start, &vsize, &rss) != 6)
    return -1;
  long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
  long long bt = boot_time();
  if(tck <= 0 || page <= 0 || bt < 0)
    return -1;
  ps->cpu_seconds = (double)(utime + stime) / (double)tck;
  ps->threads = threads;
  ps->start_time = (double)bt + (double)start / (double)tck;
  ps->vsize = vsize;
  ps->rss_bytes = (unsigned long long)rss * (unsigned long long)page;
  return 0;
}

/* Open descriptors: the entries of /proc/self/fd, minus the one reading it. */
static long open_fds(void)
{
  DIR *d = opendir("/proc/self/fd");
  long n = 0;
  if(!d)
    return -1;
  for(struct dirent *e; (e = readdir(d));)
    if(e->d_name[0] != '.')
      n++;
  closedir(d);
  return n - 1;
}

static int put(buf_t *out, const char *name, const char *type, const char *help, const char *value)
{
  return buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %s\n", name, help, name, type, name, value);
}

int metrics_render_process(buf_t *out)
{
  struct proc_stat ps;
  char v[64];
  int rc = BUF_OK;
  if(read_stat(&ps) == 0) {
    snprintf(v, sizeof(v), "%.2f", ps.cpu_seconds);
    rc = put(out, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", v);
    snprintf(v, sizeof(v), "%llu", ps.rss_bytes);
    if(rc == BUF_OK)
      rc = put(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", v);
    snprintf(v, sizeof(v), "%llu", ps.vsize);
    if(rc == BUF_OK)
      rc = put(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", v);
    snprintf(v, sizeof(v), "%.2f", ps.start_time);
    if(rc == BUF_OK)
      rc = put(out, "process_start_time_seconds", "gauge",
               "Start time of the process since unix epoch in seconds.", v);
    snprintf(v, sizeof(v), "%ld", ps.threads);
    if(rc == BUF_OK)
      rc = put(out, "process_threads", "gauge", "Number of OS threads in the process.", v);
  }
  long fds = open_fds();
  if(fds >= 0 && rc == BUF_OK) {
    snprintf(v, sizeof(v), "%ld", fds);
    rc = put(out, "process_open_fds", "gauge", "Number of open file descriptors.", v);
  }
  struct rlimit rl;
  if(getrlimit(RLIMIT_NOFILE, &rl) == 0 && rc == BUF_OK) {
    snprintf(v, sizeof(v), "%llu", (unsigned long long)rl.rlim_cur);
    rc = put(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.", v);
  }
  return rc;
}
