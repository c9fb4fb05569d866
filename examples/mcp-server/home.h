/* home.h: the home this server controls: rooms with a light, blinds and a
 * sensor. State lives in memory behind one mutex; every call sees and
 * leaves it consistent. */
#ifndef SRV_HOME_H
#define SRV_HOME_H

#include <jansson.h>
#include <stdint.h>

typedef struct home home;

home *home_new(void);
void home_free(home *h);

/* The number of rooms and room i's name (static). */
size_t home_room_count(const home *h);
const char *home_room_name(const home *h, size_t i);
/* 1 when a room of that name exists. */
int home_has_room(const home *h, const char *room);

/* A room's state as a new JSON object, or NULL for an unknown room. */
json_t *home_room_json(home *h, const char *room);
/* Every room's state: { "rooms": [ ... ] }. */
json_t *home_status_json(home *h);

/* Changes. Each returns 0, or -1 for an unknown room. A negative value
 * means "leave unchanged". */
int home_set_light(home *h, const char *room, int on, int brightness);
int home_set_blinds(home *h, const char *room, int position);
/* has_t / has_h say which readings are present; now_ms stamps them. */
int home_report_sensor(home *h, const char *room, int has_t, double t,
                       int has_h, double hum, int64_t now_ms);

#endif
