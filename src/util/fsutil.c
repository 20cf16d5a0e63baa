/* fsutil: see fsutil.h. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include "util/fsutil.h"

static int fs_mkdir_one(const char *path, mode_t mode)
{
  return mkdir(path, mode) != 0 && errno != EEXIST ? -1 : 0;
}

int fs_mkdir_p(const char *path, mode_t mode)
{
  char tmp[PATH_MAX];
  struct stat st;
  size_t n = strlen(path);
  if(n == 0 || n >= sizeof(tmp)) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(tmp, path, n + 1);
  for(char *p = tmp + 1; *p; p++) {
    if(*p != '/')
      continue;
    *p = 0;
    if(fs_mkdir_one(tmp, mode) != 0)
      return -1;
    *p = '/';
  }
  if(fs_mkdir_one(tmp, mode) != 0 || stat(tmp, &st) != 0)
    return -1;
  /* EEXIST also means a file of that name: not a directory we can use. */
  if(!S_ISDIR(st.st_mode)) {
    errno = ENOTDIR;
    return -1;
  }
  return 0;
}
