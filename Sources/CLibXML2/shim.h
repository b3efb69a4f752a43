#ifndef READSYNC_CLIBXML2_SHIM_H
#define READSYNC_CLIBXML2_SHIM_H

// libxml2's forgiving HTML parser turns real-world HTML into a tree.
#include <libxml/xmlversion.h>

// Debian builds libxml2 with ICU, so <libxml/encoding.h> includes the system's
// <unicode/ucnv.h>, whose enums clash with the ICU copy inside Foundation
// ("… is not present in definition of 'enum UErrorCode'"). Nothing here uses
// libxml2's ICU-dependent encoding-handler struct, so hide ICU from it.
#undef LIBXML_ICU_ENABLED

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#endif
