/* http.h: the libmicrohttpd side: a thread per connection, so that
 * mcpauth_check runs on many threads at once, as in a real server. */
#ifndef SRV_HTTP_H
#define SRV_HTTP_H

#include <sys/socket.h>

#include "server.h"

struct MHD_Daemon;

/* Listen on `addr` and serve until srv_http_stop. Returns NULL with a
 * reason in err when the address cannot be bound. */
struct MHD_Daemon *srv_http_start(srv *s, const struct sockaddr *addr,
                                  char *err, size_t cap);

/* The port actually bound (useful with port 0). */
unsigned srv_http_port(struct MHD_Daemon *d);

/* Stop accepting, wait for every connection thread to finish. */
void srv_http_stop(struct MHD_Daemon *d);

#endif
