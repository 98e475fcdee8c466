file(REMOVE_RECURSE
  "CMakeFiles/pagi_protocol.dir/pagi.capnp.c++.o"
  "CMakeFiles/pagi_protocol.dir/pagi.capnp.c++.o.d"
  "libpagi_protocol.a"
  "libpagi_protocol.pdb"
  "pagi.capnp.c++"
  "pagi.capnp.h"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/pagi_protocol.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
