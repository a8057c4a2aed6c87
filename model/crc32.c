/* crc32.c - CRC-32 (IEEE): the slicing-by-8 fast path and the bitwise
 * reference. The tables are constant data generated once (crc32_table.inc);
 * tests recompute them from the polynomial. */
#include "crc32.h"

#include "crc32_table.inc"

uint32_t upf_crc32_ref(uint32_t crc, const void *p, size_t n)
{
    const unsigned char *b = p;
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= b[i];
        for (int k = 0; k < 8; k++) crc = (crc & 1u) ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
    }
    return ~crc;
}

uint32_t upf_crc32(uint32_t crc, const void *p, size_t n)
{
    const unsigned char *b = p;
    crc = ~crc;
    /* Eight bytes per step; bytes are combined explicitly, so this is
     * independent of the host's byte order and alignment. */
    while (n >= 8) {
        uint32_t lo = crc ^ ((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
        uint32_t hi = (uint32_t)b[4] | (uint32_t)b[5] << 8 | (uint32_t)b[6] << 16 | (uint32_t)b[7] << 24;
        crc = upf_crc32_tab[7][lo & 0xFFu] ^ upf_crc32_tab[6][(lo >> 8) & 0xFFu] ^
              upf_crc32_tab[5][(lo >> 16) & 0xFFu] ^ upf_crc32_tab[4][lo >> 24] ^
              upf_crc32_tab[3][hi & 0xFFu] ^ upf_crc32_tab[2][(hi >> 8) & 0xFFu] ^
              upf_crc32_tab[1][(hi >> 16) & 0xFFu] ^ upf_crc32_tab[0][hi >> 24];
        b += 8;
        n -= 8;
    }
    while (n--) crc = upf_crc32_tab[0][(crc ^ *b++) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}
