workers/CMakeFiles/pagi_workers.dir/placeholder.cpp.o: \
 /work/main/workers/placeholder.cpp /usr/include/stdc-predef.h
