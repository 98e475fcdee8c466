protocol/CMakeFiles/pagi_protocol.dir/pagi.capnp.c++.o: \
 /work/main/build/protocol/pagi.capnp.c++ /usr/include/stdc-predef.h \
 /work/main/build/protocol/pagi.capnp.h \
 /usr/include/capnp/generated-header-support.h \
 /usr/include/capnp/raw-schema.h /usr/include/capnp/common.h \
 /usr/include/inttypes.h /usr/include/features.h \
 /usr/include/features-time64.h \
 /usr/include/x86_64-linux-gnu/bits/wordsize.h \
 /usr/include/x86_64-linux-gnu/bits/timesize.h \
 /usr/include/x86_64-linux-gnu/sys/cdefs.h \
 /usr/include/x86_64-linux-gnu/bits/long-double.h \
 /usr/include/x86_64-linux-gnu/gnu/stubs.h \
 /usr/include/x86_64-linux-gnu/gnu/stubs-64.h \
 /usr/lib/gcc/x86_64-linux-gnu/12/include/stdint.h /usr/include/stdint.h \
 /usr/include/x86_64-linux-gnu/bits/libc-header-start.h \
 /usr/include/x86_64-linux-gnu/bits/types.h \
 /usr/include/x86_64-linux-gnu/bits/typesizes.h \
 /usr/include/x86_64-linux-gnu/bits/time64.h \
 /usr/include/x86_64-linux-gnu/bits/wchar.h \
 /usr/include/x86_64-linux-gnu/bits/stdint-intn.h \
 /usr/include/x86_64-linux-gnu/bits/stdint-uintn.h \
 /usr/include/kj/string.h /usr/include/c++/12/initializer_list \
 /usr/include/x86_64-linux-gnu/c++/12/bits/c++config.h \
 /usr/include/x86_64-linux-gnu/c++/12/bits/os_defines.h \
 /usr/include/x86_64-linux-gnu/c++/12/bits/cpu_defines.h \
 /usr/include/c++/12/pstl/pstl_config.h /usr/include/kj/array.h \
 /usr/include/kj/memory.h /usr/include/kj/common.h \
 /usr/lib/gcc/x86_64-linux-gnu/12/include/stddef.h /usr/include/string.h \
 /usr/include/x86_64-linux-gnu/bits/types/locale_t.h \
 /usr/include/x86_64-linux-gnu/bits/types/__locale_t.h \
 /usr/include/strings.h /usr/include/kj/windows-sanity.h \
 /usr/include/capnp/layout.h /usr/include/capnp/blob.h \
 /usr/include/capnp/endian.h /usr/include/capnp/list.h \
 /usr/include/capnp/orphan.h /usr/include/capnp/pointer-helpers.h \
 /usr/include/capnp/any.h /usr/include/kj/hash.h \
 /usr/include/kj/string-tree.h
