#ifndef READSYNC_CZLIB_SHIM_H
#define READSYNC_CZLIB_SHIM_H

#include <zlib.h>

// deflateInit2 and inflateInit2 are function-like macros (they pass the
// library version and struct size), which Swift cannot call.

// windowBits -15: raw deflate, no header or trailer (a piece of a gzip
// body compressed on its own; `Gzip.join` writes those).
static inline int readsync_deflate_init_raw(z_stream *stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
}

// windowBits 31 reads the gzip format (15 + 16).
static inline int readsync_inflate_init_gzip(z_stream *stream) {
    return inflateInit2(stream, 31);
}

#endif
