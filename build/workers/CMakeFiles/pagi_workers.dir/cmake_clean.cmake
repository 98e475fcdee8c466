file(REMOVE_RECURSE
  "CMakeFiles/pagi_workers.dir/placeholder.cpp.o"
  "CMakeFiles/pagi_workers.dir/placeholder.cpp.o.d"
  "libpagi_workers.a"
  "libpagi_workers.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/pagi_workers.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
