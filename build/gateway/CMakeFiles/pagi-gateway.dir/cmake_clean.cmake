file(REMOVE_RECURSE
  "../pagi-gateway"
  "../pagi-gateway.pdb"
  "CMakeFiles/pagi-gateway.dir/main.cpp.o"
  "CMakeFiles/pagi-gateway.dir/main.cpp.o.d"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/pagi-gateway.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
