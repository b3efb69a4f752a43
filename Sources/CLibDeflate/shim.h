#ifndef READSYNC_CLIBDEFLATE_SHIM_H
#define READSYNC_CLIBDEFLATE_SHIM_H

// libdeflate: whole-buffer DEFLATE and gzip, about twice as fast as zlib
// to compress at level 1 and three times as fast to inflate.
#include <libdeflate.h>

#endif
