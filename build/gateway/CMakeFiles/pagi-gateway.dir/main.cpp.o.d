gateway/CMakeFiles/pagi-gateway.dir/main.cpp.o: \
 /work/main/gateway/main.cpp /usr/include/stdc-predef.h
