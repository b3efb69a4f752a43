#ifndef READSYNC_CLIBCRYPTO_SHIM_H
#define READSYNC_CLIBCRYPTO_SHIM_H

// OpenSSL's libcrypto, for SHA-256 only (content-derived ids): it uses the
// CPU's SHA extensions where it has them.
#include <openssl/evp.h>

#endif
