/* items: placeholder until the item actions land. */
#include "api/api.h"
const struct http_route api_item_routes[] = {{NULL, NULL, NULL, 0, NULL}};
