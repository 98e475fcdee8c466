file(REMOVE_RECURSE
  "CMakeFiles/pagi_gateway_lib.dir/config/placeholder.cpp.o"
  "CMakeFiles/pagi_gateway_lib.dir/config/placeholder.cpp.o.d"
  "libpagi_gateway_lib.a"
  "libpagi_gateway_lib.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/pagi_gateway_lib.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
