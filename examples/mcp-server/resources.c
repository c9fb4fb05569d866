/* resources.c: read-only views of the home's state. */
#include "resources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RES_ROOM_PREFIX "home://rooms/"
#define RES_STATUS "home://status"

static json_t *resource_entry(const char *uri, const char *name, const char *title,
                              const char *description)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s}", "uri", uri, "name", name, "title", title,
                     "description", description, "mimeType", "application/json");
}

json_t *resources_list(home *h)
{
    json_t *list = json_array();
    json_array_append_new(list, resource_entry(RES_STATUS, "status", "Whole home",
                                               "Every room's lights, blinds and sensor"));
    for (size_t i = 0; i < home_room_count(h); i++) {
        char uri[128];
        snprintf(uri, sizeof uri, RES_ROOM_PREFIX "%s", home_room_name(h, i));
        json_array_append_new(list, resource_entry(uri, home_room_name(h, i),
                                                   home_room_name(h, i),
                                                   "One room's lights, blinds and sensor"));
    }
    return json_pack("{s:o}", "resources", list);
}

json_t *resources_templates(void)
{
    return json_pack("{s:[{s:s,s:s,s:s,s:s}]}", "resourceTemplates", "uriTemplate",
                     RES_ROOM_PREFIX "{room}", "name", "room", "description",
                     "One room's lights, blinds and sensor", "mimeType",
                     "application/json");
}

json_t *resources_read(home *h, const char *uri)
{
    json_t *data = NULL;
    if (strcmp(uri, RES_STATUS) == 0)
        data = home_status_json(h);
    else if (strncmp(uri, RES_ROOM_PREFIX, strlen(RES_ROOM_PREFIX)) == 0)
        data = home_room_json(h, uri + strlen(RES_ROOM_PREFIX));
    if (!data)
        return NULL;
    char *text = json_dumps(data, JSON_COMPACT);
    json_decref(data);
    json_t *r = text ? json_pack("{s:[{s:s,s:s,s:s}]}", "contents", "uri", uri, "mimeType",
                                 "application/json", "text", text)
                     : NULL;
    free(text);
    return r;
}
