/* folders: placeholder until the folders module lands. */
#include "api/api.h"
const struct http_route api_folder_routes[] = {{NULL, NULL, NULL, 0, NULL}};
