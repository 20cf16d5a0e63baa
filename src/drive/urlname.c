/* urlname: see urlname.h. */
#include <stdio.h>
#include "drive/urlname.h"
#include "util/disposition.h"
#include "util/names.h"

void urlname_choose(struct upload *up, struct task *task, const char *asked,
                    const char *disposition, const char *url)
{
  char cand[3][1024];
  int n = 0;
  const char *why;
  if(asked && asked[0])
    snprintf(cand[n++], sizeof(cand[0]), "%s", asked);
  if(disposition_filename(disposition, cand[n], sizeof(cand[0])) == 0)
    n++;
  if(disposition_url_name(url, cand[n], sizeof(cand[0])) == 0)
    n++;
  for(int i = 0; i < n; i++)
    if(upload_set_name(up, cand[i], &why) == DRIVE_OK) {
      char clean[256];
      if(!name_clean(cand[i], clean, sizeof(clean)))
        task_set_file_name(task, clean);
      return;
    }
  upload_set_name(up, "download", &why);
  task_set_file_name(task, "download");
}
