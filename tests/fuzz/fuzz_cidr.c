/* fuzz_cidr.c: the ipwhitelist plugin's address and CIDR parser
 * (plugins/ipwhitelist/ipaddr.c, compiled in) and the store's CIDR check.
 * Oracles: an accepted block has a prefix within its family's width, holds
 * its own address, and its address prints and parses back to itself. */
#include "fuzz_common.h"
#include "ipaddr.h"
#include "ipset.h"
#include "mcpauth/mcpauth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fz_cstr(data, size);
    ipw_cidr c;
    ipw_addr a;
    char buf[IPW_TEXT_MAX];
    (void)ipw_addr_parse(text, size, &a);
    (void)mcpauth_key_check_cidr(text);
    for (int strict = 0; strict < 2; strict++) {
        if (ipw_cidr_parse(text, strict, &c) != NULL)
            continue;
        if ((c.addr.family == 4 && c.prefix > 32) || (c.addr.family == 6 && c.prefix > 128) ||
            (c.addr.family != 4 && c.addr.family != 6) || !ipw_cidr_contains(&c, &c.addr))
            abort();
        const char *t = ipw_addr_text(&c.addr, buf, sizeof(buf));
        ipw_addr back;
        if (!t || ipw_addr_parse(t, strlen(t), &back) != 0 ||
            memcmp(&back, &c.addr, sizeof(back)) != 0)
            abort();
        ipw_set s;
        memset(&s, 0, sizeof(s));
        if (ipw_set_add(&s, &c) == 0) {
            ipw_set_finish(&s);
            if (!ipw_set_contains(&s, &c.addr))
                abort();
        }
        ipw_set_free(&s);
    }
    free(text);
    return 0;
}
