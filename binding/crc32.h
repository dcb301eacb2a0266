// CRC-32 as zip and zlib define it (reflected, polynomial 0xEDB88320, pre- and post-inverted):
// Crc32(0, p, n) equals zlib's crc32(0, p, n), and calls chain: Crc32(Crc32(0, a), b) = CRC of a+b.
#pragma once

#include <cstddef>
#include <cstdint>

namespace torch_node {

uint32_t Crc32(uint32_t crc, const uint8_t* p, size_t n);
// Carry-less multiply folding on x86-64 with PCLMULQDQ and SSE4.1, else a table (slicing by 4);
// TORCH_NODE_CRC=table forces the table (its tests run both).

}  // namespace torch_node
