/* resources.h: the home as MCP resources: home://status and one
 * home://rooms/{room} per room. */
#ifndef SRV_RESOURCES_H
#define SRV_RESOURCES_H

#include <jansson.h>

#include "home.h"

/* The result of resources/list (new reference). */
json_t *resources_list(home *h);
/* The result of resources/templates/list. */
json_t *resources_templates(void);
/* The result of resources/read for `uri`, or NULL when there is no such
 * resource (a -32002 error). */
json_t *resources_read(home *h, const char *uri);

#endif
