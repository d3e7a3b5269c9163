#!/bin/sh
# Regenerates the ELF fixtures of the wheelaudit tests (see README.md).
# Needs Debian bookworm's gcc, g++ and gcc-s390x-linux-gnu (glibc 2.36).
set -eu
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Small files: no separate code segment, 4 KiB pages, no build id.
LDFLAGS="-shared -nostartfiles -Wl,-z,noseparate-code -Wl,-z,max-page-size=4096 -Wl,--build-id=none"

# old.c uses only symbols glibc has versioned since its first release on the
# architecture (GLIBC_2.2.5 on x86_64, GLIBC_2.2 on s390x).
cat >"$work/old.c" <<'C'
#include <string.h>
#include <stdlib.h>
size_t fixture_old(const char *s) { char *p = strdup(s); size_t n = strlen(p); free(p); return n; }
C
# new.c calls dlopen, versioned GLIBC_2.34 since libdl moved into libc.
cat >"$work/new.c" <<'C'
#include <dlfcn.h>
void *fixture_new(const char *s) { return dlopen(s, RTLD_LAZY); }
C
# stub.c becomes a library whose SONAME is libxml2.so.2, a library no
# manylinux policy allows; xml.c links it.
cat >"$work/stub.c" <<'C'
int xmlFixture(void) { return 2; }
C
cat >"$work/xml.c" <<'C'
int xmlFixture(void);
int fixture_xml(void) { return xmlFixture(); }
C
# cxx.cc needs std::__cxx11::basic_string (GLIBCXX_3.4.21, newer than
# manylinux2014's 3.4.19).
cat >"$work/cxx.cc" <<'C'
#include <string>
extern "C" unsigned long fixture_cxx(const char *s) { std::string t(s); t += "!"; return t.size(); }
C

build() { # arch cc
	arch=$1 cc=$2
	mkdir -p "$arch"
	$cc $LDFLAGS -O2 -o "$arch/old.so" "$work/old.c"
	$cc $LDFLAGS -O2 -o "$arch/new.so" "$work/new.c"
	$cc $LDFLAGS -O2 -Wl,-soname,libxml2.so.2 -o "$arch/libxml2.so.2" "$work/stub.c"
	$cc $LDFLAGS -O2 -Wl,--no-as-needed -o "$arch/xml.so" "$work/xml.c" "$arch/libxml2.so.2"
	${cc%gcc}strip --strip-all "$arch"/*.so "$arch/libxml2.so.2"
}
build x86_64 gcc
build s390x s390x-linux-gnu-gcc
g++ -shared -Wl,-z,noseparate-code -Wl,-z,max-page-size=4096 -Wl,--build-id=none -O2 -o x86_64/cxx.so "$work/cxx.cc"
strip --strip-all x86_64/cxx.so
ls -l x86_64 s390x
