/* ft_app: the process-wide state every request can reach. */
#ifndef FT_APP_H
#define FT_APP_H

#include "ft_config.h"
#include "ft_pace.h"
#include "ft_stats.h"
#include "ft_store.h"

struct ft_app {
  struct ft_config cfg;
  struct ft_store store;
  struct ft_pace pace;
  struct ft_stats stats;
};

#endif
