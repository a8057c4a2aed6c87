/* crc32.h - CRC-32 as in zlib, PNG and Ethernet (IEEE 802.3: reflected
 * polynomial 0xEDB88320, initial value and final xor 0xFFFFFFFF); the checksum
 * of every .upf section. Check value: upf_crc32(0, "123456789", 9) ==
 * 0xCBF43926, the same as Python's zlib.crc32.
 *
 * Entry points: upf_crc32 (slicing-by-8, the one to use) and upf_crc32_ref
 * (bit by bit, the reference the tests compare against). A CRC detects
 * accidents (truncation, bit flips), not tampering.
 */
#ifndef UPF_CRC32_H
#define UPF_CRC32_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Continues a running CRC: crc is the value returned for the bytes before
 * (0 to start), so upf_crc32(upf_crc32(0, a, n), b, m) is the CRC of a||b.
 * p may be NULL when n is 0. Thread-safe, no state. */
uint32_t upf_crc32(uint32_t crc, const void *p, size_t n);
uint32_t upf_crc32_ref(uint32_t crc, const void *p, size_t n);

#ifdef __cplusplus
}
#endif
#endif
