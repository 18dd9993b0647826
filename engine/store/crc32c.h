/*
 * CRC-32C (Castagnoli), the checksum of journal records and of sweep.h5's user
 * block: SSE4.2 instructions where the CPU has them, slicing-by-8 tables
 * otherwise (the unit tests check one against the other).
 */
#ifndef HPS_STORE_CRC32C_H
#define HPS_STORE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32C of len bytes, continuing from crc (start with 0). */
uint32_t hps_crc32c(uint32_t crc, const void *data, size_t len);

/* The table implementation alone, whatever the CPU offers (for the tests). */
uint32_t hps_crc32c_portable(uint32_t crc, const void *data, size_t len);

#endif
