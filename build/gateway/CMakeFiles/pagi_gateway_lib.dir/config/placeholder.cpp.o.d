gateway/CMakeFiles/pagi_gateway_lib.dir/config/placeholder.cpp.o: \
 /work/main/gateway/config/placeholder.cpp /usr/include/stdc-predef.h
