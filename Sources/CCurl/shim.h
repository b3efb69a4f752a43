#ifndef READSYNC_CCURL_SHIM_H
#define READSYNC_CCURL_SHIM_H

#include <curl/curl.h>

// curl_easy_setopt and curl_easy_getinfo are C variadic functions, which
// Swift cannot call ("Variadic function is unavailable"). These wrappers give
// each argument type its own non-variadic entry point, as GRDB does for
// sqlite3_config.

static inline CURLcode readsync_curl_setopt_long(CURL *curl, CURLoption option, long value) {
    return curl_easy_setopt(curl, option, value);
}

static inline CURLcode readsync_curl_setopt_string(CURL *curl, CURLoption option, const char *value) {
    return curl_easy_setopt(curl, option, value);
}

static inline CURLcode readsync_curl_setopt_pointer(CURL *curl, CURLoption option, void *value) {
    return curl_easy_setopt(curl, option, value);
}

static inline CURLcode readsync_curl_setopt_off_t(CURL *curl, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(curl, option, value);
}

typedef size_t (*readsync_curl_write_callback)(char *data, size_t size, size_t count, void *context);

static inline CURLcode readsync_curl_setopt_write_function(CURL *curl, readsync_curl_write_callback callback) {
    return curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, callback);
}

static inline CURLcode readsync_curl_setopt_header_function(CURL *curl, readsync_curl_write_callback callback) {
    return curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, callback);
}

static inline CURLcode readsync_curl_setopt_opensocket_function(CURL *curl, curl_opensocket_callback callback) {
    return curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, callback);
}

static inline CURLcode readsync_curl_setopt_prereq_function(CURL *curl, curl_prereq_callback callback) {
    return curl_easy_setopt(curl, CURLOPT_PREREQFUNCTION, callback);
}

static inline CURLcode readsync_curl_getinfo_long(CURL *curl, CURLINFO info, long *value) {
    return curl_easy_getinfo(curl, info, value);
}

static inline CURLcode readsync_curl_getinfo_string(CURL *curl, CURLINFO info, char **value) {
    return curl_easy_getinfo(curl, info, value);
}

static inline CURLcode readsync_curl_getinfo_double(CURL *curl, CURLINFO info, double *value) {
    return curl_easy_getinfo(curl, info, value);
}

// CURLVERSION_NOW is a macro Swift cannot see.
static inline const curl_version_info_data *readsync_curl_version_info(void) {
    return curl_version_info(CURLVERSION_NOW);
}

#endif
