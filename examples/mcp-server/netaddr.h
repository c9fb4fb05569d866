/* netaddr.h: the listen address, peer addresses as text, and the
 * --trusted-proxy CIDR list. */
#ifndef SRV_NETADDR_H
#define SRV_NETADDR_H

#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

/* Room for an address as text (IPv6 with its NUL). */
#define SRV_ADDR_TEXT_MAX 64

/* An address block: 16 bytes (IPv4 as IPv4-mapped IPv6) and a prefix
 * length counted over those 128 bits. */
typedef struct srv_cidr {
    unsigned char addr[16];
    unsigned bits;
} srv_cidr;

/* Parse "HOST:PORT" or "[V6]:PORT" (numeric host, port 0-65535) into *out.
 * Returns 0, or -1 with a reason in err. */
int srv_parse_listen(const char *text, struct sockaddr_storage *out,
                     socklen_t *len, char *err, size_t cap);

/* Parse "ADDR" or "ADDR/BITS", IPv4 or IPv6. Returns 0 or -1. */
int srv_parse_cidr(const char *text, srv_cidr *out);

/* The peer address as text; IPv4-mapped IPv6 addresses come out as IPv4.
 * Writes "" when sa is NULL or of another family. */
void srv_addr_text(const struct sockaddr *sa, char *out, size_t cap);

/* 1 when the address `text` lies in one of the n blocks, else 0. */
int srv_cidr_match(const srv_cidr *list, size_t n, const char *text);

/* The client behind trusted proxies, from an X-Forwarded-For value: the
 * right-most entry that is not in the n blocks (when every entry is, the
 * left-most), written to out as the entry's text. Returns 0, or -1 when the
 * header is blank or an entry that must be read is not an address. */
int srv_forwarded_client(const srv_cidr *list, size_t n, const char *ff, char *out,
                         size_t cap);

#endif
