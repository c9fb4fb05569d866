/* home.c: the rooms and their devices. */
#include "home.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mcpauth/mcpauth.h"

typedef struct room {
    const char *name;
    int light_on;
    int brightness;      /* 0..100 */
    int blinds;          /* 0 closed .. 100 open */
    double temperature;  /* degrees Celsius */
    double humidity;     /* percent */
    int64_t sensor_ms;   /* last report, 0: never */
} room;

struct home {
    pthread_mutex_t lock;
    room rooms[4];
    size_t n;
};

static const room home_initial[] = {
    { "living_room", 0, 80, 100, 21.5, 45.0, 0 },
    { "kitchen", 1, 100, 50, 22.0, 50.0, 0 },
    { "bedroom", 0, 40, 0, 19.0, 48.0, 0 },
    { "hall", 0, 60, 100, 20.0, 44.0, 0 },
};

home *home_new(void)
{
    home *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    pthread_mutex_init(&h->lock, NULL);
    h->n = sizeof home_initial / sizeof home_initial[0];
    memcpy(h->rooms, home_initial, sizeof home_initial);
    return h;
}

void home_free(home *h)
{
    if (!h)
        return;
    pthread_mutex_destroy(&h->lock);
    free(h);
}

size_t home_room_count(const home *h) { return h->n; }

const char *home_room_name(const home *h, size_t i)
{
    return i < h->n ? h->rooms[i].name : NULL;
}

/* Room names never change, so this needs no lock. */
static room *home_find(home *h, const char *name)
{
    for (size_t i = 0; name && i < h->n; i++)
        if (strcmp(h->rooms[i].name, name) == 0)
            return &h->rooms[i];
    return NULL;
}

int home_has_room(const home *h, const char *room)
{
    return home_find((home *)h, room) != NULL;
}

/* Called with the lock held. */
static json_t *home_room_json_locked(const room *r)
{
    json_t *o = json_pack("{s:s,s:{s:b,s:i},s:{s:i},s:{s:f,s:f}}",
                          "room", r->name,
                          "light", "on", r->light_on, "brightness", r->brightness,
                          "blinds", "position", r->blinds,
                          "sensor", "temperature_c", r->temperature,
                          "humidity_pct", r->humidity);
    if (o && r->sensor_ms) {
        char when[32];
        mcpauth_format_time_ms(r->sensor_ms, when, sizeof when);
        json_object_set_new(json_object_get(o, "sensor"), "reported_at", json_string(when));
    }
    return o;
}

json_t *home_room_json(home *h, const char *name)
{
    room *r = home_find(h, name);
    if (!r)
        return NULL;
    pthread_mutex_lock(&h->lock);
    json_t *o = home_room_json_locked(r);
    pthread_mutex_unlock(&h->lock);
    return o;
}

json_t *home_status_json(home *h)
{
    json_t *list = json_array();
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; list && i < h->n; i++)
        json_array_append_new(list, home_room_json_locked(&h->rooms[i]));
    pthread_mutex_unlock(&h->lock);
    return list ? json_pack("{s:o}", "rooms", list) : NULL;
}

int home_set_light(home *h, const char *name, int on, int brightness)
{
    room *r = home_find(h, name);
    if (!r)
        return -1;
    pthread_mutex_lock(&h->lock);
    if (on >= 0)
        r->light_on = on;
    if (brightness >= 0)
        r->brightness = brightness;
    pthread_mutex_unlock(&h->lock);
    return 0;
}

int home_set_blinds(home *h, const char *name, int position)
{
    room *r = home_find(h, name);
    if (!r)
        return -1;
    pthread_mutex_lock(&h->lock);
    r->blinds = position;
    pthread_mutex_unlock(&h->lock);
    return 0;
}

int home_report_sensor(home *h, const char *name, int has_t, double t,
                       int has_h, double hum, int64_t now_ms)
{
    room *r = home_find(h, name);
    if (!r)
        return -1;
    pthread_mutex_lock(&h->lock);
    if (has_t)
        r->temperature = t;
    if (has_h)
        r->humidity = hum;
    r->sensor_ms = now_ms;
    pthread_mutex_unlock(&h->lock);
    return 0;
}
