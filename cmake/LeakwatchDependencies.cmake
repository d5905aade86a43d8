# Every third-party dependency, found on the system (Debian 12 packages; tools/deps.sh installs
# them). Nothing is downloaded at configure time.
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(mimalloc 2.0 CONFIG REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS context)
find_package(Protobuf REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(ZLIB REQUIRED)
find_package(doctest CONFIG REQUIRED)
pkg_check_modules(LIBUNWIND REQUIRED IMPORTED_TARGET libunwind)
pkg_check_modules(LIBDW REQUIRED IMPORTED_TARGET libdw)
# cpp-httplib 0.11 ships a compiled library; its .pc pulls in OpenSSL and Brotli too.
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
