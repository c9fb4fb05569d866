/* tools.c: get_status, list_rooms, set_light, set_blinds, report_sensor. */
#include "tools.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mcpauth/mcpauth.h"

typedef int (*tool_fn)(home *h, json_t *args, json_t **result, char *err,
                       size_t cap);

typedef struct tool_def {
    const char *name;
    const char *title;
    const char *description;
    const char *schema;        /* JSON Schema of the arguments */
    int read_only;
    const char *const *keys;   /* the argument names it accepts */
    tool_fn call;
} tool_def;

/* ---- argument checking ---- */

static int tool_fail(char *err, size_t cap, const char *fmt, ...)
    MCPAUTH_PRINTF(3, 4);

static int tool_fail(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return -1;
}

/* additionalProperties: false */
static int args_known(json_t *args, const char *const *keys, char *err, size_t cap)
{
    const char *k;
    json_t *v;
    json_object_foreach(args, k, v) {
        size_t i = 0;
        while (keys[i] && strcmp(keys[i], k) != 0)
            i++;
        if (!keys[i])
            return tool_fail(err, cap, "unknown argument '%.64s'", k);
    }
    return 0;
}

static int args_room(json_t *args, int required, const char **out, char *err, size_t cap)
{
    json_t *v = json_object_get(args, "room");
    *out = NULL;
    if (!v)
        return required ? tool_fail(err, cap, "argument 'room' is required") : 0;
    if (!json_is_string(v))
        return tool_fail(err, cap, "argument 'room' must be a string");
    *out = json_string_value(v);
    return 0;
}

/* An integer in [lo, hi]; *out stays -1 when absent. */
static int args_int(json_t *args, const char *key, int lo, int hi, int *out,
                    char *err, size_t cap)
{
    json_t *v = json_object_get(args, key);
    *out = -1;
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return tool_fail(err, cap, "argument '%s' must be an integer from %d to %d", key, lo, hi);
    *out = (int)json_integer_value(v);
    return 0;
}

static int args_number(json_t *args, const char *key, double lo, double hi,
                       int *has, double *out, char *err, size_t cap)
{
    json_t *v = json_object_get(args, key);
    *has = 0;
    if (!v)
        return 0;
    if (!json_is_number(v) || json_number_value(v) < lo || json_number_value(v) > hi)
        return tool_fail(err, cap, "argument '%s' must be a number from %g to %g", key, lo, hi);
    *has = 1;
    *out = json_number_value(v);
    return 0;
}

static int args_bool(json_t *args, const char *key, int *out, char *err, size_t cap)
{
    json_t *v = json_object_get(args, key);
    *out = -1;
    if (!v)
        return 0;
    if (!json_is_boolean(v))
        return tool_fail(err, cap, "argument '%s' must be true or false", key);
    *out = json_is_true(v);
    return 0;
}

/* ---- results ---- */

/* A result carrying `data` both as structured content and as its JSON
 * text (for clients older than structured content). Steals data. */
static json_t *tool_result(json_t *data)
{
    char *text = json_dumps(data, JSON_COMPACT);
    json_t *r = json_pack("{s:[{s:s,s:s}],s:o,s:b}", "content", "type", "text",
                          "text", text ? text : "{}", "structuredContent", data,
                          "isError", 0);
    free(text);
    return r;
}

/* A tool execution error: the call was well-formed, the home said no. */
static json_t *tool_error_result(const char *fmt, const char *arg)
{
    char msg[256];
    snprintf(msg, sizeof msg, fmt, arg);
    return json_pack("{s:[{s:s,s:s}],s:b}", "content", "type", "text", "text", msg,
                     "isError", 1);
}

static json_t *tool_no_room(const char *room)
{
    return tool_error_result("no room named '%.64s'; list_rooms shows the rooms", room);
}

/* ---- the tools ---- */

static int tool_get_status(home *h, json_t *args, json_t **result, char *err, size_t cap)
{
    const char *room;
    if (args_room(args, 0, &room, err, cap) != 0)
        return -1;
    if (!room) {
        *result = tool_result(home_status_json(h));
        return 0;
    }
    json_t *r = home_room_json(h, room);
    *result = r ? tool_result(r) : tool_no_room(room);
    return 0;
}

static int tool_list_rooms(home *h, json_t *args, json_t **result, char *err, size_t cap)
{
    (void)args; (void)err; (void)cap;
    json_t *names = json_array();
    for (size_t i = 0; i < home_room_count(h); i++)
        json_array_append_new(names, json_string(home_room_name(h, i)));
    *result = tool_result(json_pack("{s:o}", "rooms", names));
    return 0;
}

static int tool_set_light(home *h, json_t *args, json_t **result, char *err, size_t cap)
{
    const char *room;
    int on, brightness;
    if (args_room(args, 1, &room, err, cap) != 0 || args_bool(args, "on", &on, err, cap) != 0 ||
        args_int(args, "brightness", 0, 100, &brightness, err, cap) != 0)
        return -1;
    if (on < 0 && brightness < 0)
        return tool_fail(err, cap, "set_light needs 'on', 'brightness' or both");
    *result = home_set_light(h, room, on, brightness) == 0
                  ? tool_result(home_room_json(h, room)) : tool_no_room(room);
    return 0;
}

static int tool_set_blinds(home *h, json_t *args, json_t **result, char *err, size_t cap)
{
    const char *room;
    int position;
    if (args_room(args, 1, &room, err, cap) != 0 ||
        args_int(args, "position", 0, 100, &position, err, cap) != 0)
        return -1;
    if (position < 0)
        return tool_fail(err, cap, "argument 'position' is required");
    *result = home_set_blinds(h, room, position) == 0
                  ? tool_result(home_room_json(h, room)) : tool_no_room(room);
    return 0;
}

static int tool_report_sensor(home *h, json_t *args, json_t **result, char *err, size_t cap)
{
    const char *room;
    int has_t, has_h;
    double t = 0, hum = 0;
    if (args_room(args, 1, &room, err, cap) != 0 ||
        args_number(args, "temperature", -50, 100, &has_t, &t, err, cap) != 0 ||
        args_number(args, "humidity", 0, 100, &has_h, &hum, err, cap) != 0)
        return -1;
    if (!has_t && !has_h)
        return tool_fail(err, cap, "report_sensor needs 'temperature', 'humidity' or both");
    *result = home_report_sensor(h, room, has_t, t, has_h, hum, mcpauth_now_ms()) == 0
                  ? tool_result(home_room_json(h, room)) : tool_no_room(room);
    return 0;
}

static const char *const keys_room[] = { "room", NULL };
static const char *const keys_none[] = { NULL };
static const char *const keys_light[] = { "room", "on", "brightness", NULL };
static const char *const keys_blinds[] = { "room", "position", NULL };
static const char *const keys_sensor[] = { "room", "temperature", "humidity", NULL };

#define ROOM_PROP "\"room\":{\"type\":\"string\",\"description\":\"A room, as list_rooms names it\"}"

static const tool_def tool_defs[] = {
    { "get_status", "Home status", "The lights, blinds and sensor readings of one room, or of every room.",
      "{\"type\":\"object\",\"properties\":{" ROOM_PROP "},\"additionalProperties\":false}",
      1, keys_room, tool_get_status },
    { "list_rooms", "List rooms", "The names of the rooms in the home.",
      "{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}",
      1, keys_none, tool_list_rooms },
    { "set_light", "Set a light", "Switch a room's light on or off and set its brightness.",
      "{\"type\":\"object\",\"properties\":{" ROOM_PROP ",\"on\":{\"type\":\"boolean\"},"
      "\"brightness\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":100}},"
      "\"required\":[\"room\"],\"additionalProperties\":false}",
      0, keys_light, tool_set_light },
    { "set_blinds", "Move blinds", "Move a room's blinds: 0 is closed, 100 fully open.",
      "{\"type\":\"object\",\"properties\":{" ROOM_PROP ","
      "\"position\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":100}},"
      "\"required\":[\"room\",\"position\"],\"additionalProperties\":false}",
      0, keys_blinds, tool_set_blinds },
    { "report_sensor", "Report a sensor reading", "A sensor reports a room's temperature (Celsius) and humidity (percent).",
      "{\"type\":\"object\",\"properties\":{" ROOM_PROP ","
      "\"temperature\":{\"type\":\"number\",\"minimum\":-50,\"maximum\":100},"
      "\"humidity\":{\"type\":\"number\",\"minimum\":0,\"maximum\":100}},"
      "\"required\":[\"room\"],\"additionalProperties\":false}",
      0, keys_sensor, tool_report_sensor },
};

#define TOOL_COUNT (sizeof tool_defs / sizeof tool_defs[0])

size_t tools_count(void) { return TOOL_COUNT; }

const char *tools_name(size_t i) { return i < TOOL_COUNT ? tool_defs[i].name : NULL; }

json_t *tools_definition(size_t i)
{
    if (i >= TOOL_COUNT)
        return NULL;
    const tool_def *t = &tool_defs[i];
    json_t *schema = json_loads(t->schema, 0, NULL);
    return json_pack("{s:s,s:s,s:s,s:o,s:{s:b}}", "name", t->name, "title", t->title,
                     "description", t->description, "inputSchema",
                     schema ? schema : json_object(), "annotations", "readOnlyHint",
                     t->read_only);
}

int tools_call(home *h, const char *name, json_t *args, json_t **result,
               char *err, size_t cap)
{
    *result = NULL;
    for (size_t i = 0; name && i < TOOL_COUNT; i++) {
        if (strcmp(tool_defs[i].name, name) != 0)
            continue;
        json_t *empty = NULL;
        if (!args)
            args = empty = json_object();
        int rc = json_is_object(args) ? args_known(args, tool_defs[i].keys, err, cap)
                                      : tool_fail(err, cap, "arguments must be an object");
        if (rc == 0)
            rc = tool_defs[i].call(h, args, result, err, cap);
        json_decref(empty);
        if (rc == 0 && !*result)
            rc = tool_fail(err, cap, "out of memory");
        return rc;
    }
    return tool_fail(err, cap, "unknown tool '%.64s'", name ? name : "");
}
