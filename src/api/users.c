/* users: placeholder until the accounts module lands. */
#include "api/api.h"
const struct http_route api_user_routes[] = {{NULL, NULL, NULL, 0, NULL}};
