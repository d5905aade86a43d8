# The in-process side as shared libraries: libleakwatch.so for programs that link it, and for
# unmodified programs libleakwatch_preload.so (LD_PRELOAD) with its server companion
# libleakwatch_server.so. docs/architecture.md says what each holds and what loads when.
#
# leakwatch::leakwatch, libleakwatch.so: every in-process module's objects. It is shared (not a bag
# of static archives) so that a program that links it gets our malloc/new ahead of glibc's through
# ordinary symbol lookup order. Every module object goes in whole (the interposer and the start-up
# constructor are referenced by no one); linking the module archives as well brings their
# third-party dependencies along.
set(LEAKWATCH_IN_PROCESS_MODULES
    leakwatch_base leakwatch_unwind leakwatch_unwind_symbolizer leakwatch_snapshot_model
    leakwatch_runtime leakwatch_heap leakwatch_threads
    leakwatch_snapshot leakwatch_capture leakwatch_profile leakwatch_cpu leakwatch_http leakwatch_server)

add_library(leakwatch SHARED cmake/empty.cpp)
foreach(module IN LISTS LEAKWATCH_IN_PROCESS_MODULES)
  target_sources(leakwatch PRIVATE $<TARGET_OBJECTS:${module}>)
endforeach()
target_link_libraries(leakwatch PRIVATE ${LEAKWATCH_IN_PROCESS_MODULES})
target_include_directories(leakwatch INTERFACE
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_compile_features(leakwatch INTERFACE cxx_std_20)
set_target_properties(leakwatch PROPERTIES VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}
                      EXPORT_NAME leakwatch)
add_library(leakwatch::leakwatch ALIAS leakwatch)

# leakwatch::preload, libleakwatch_preload.so: what every process of a preloaded tree runs, so
# nothing more than capture needs. The interposers (heap, threads), stack capture and base, with
# mimalloc and libunwind; no protobuf, libdw, zlib, Boost or server. Its start-up
# (src/server/preload_start.cpp) loads the companion only in a process that is to serve. Linked
# with --no-undefined: an object here that reached into the companion's modules fails the link.
# The start-up object goes last: constructors of one priority run in link order, and it must run
# after the thread registry's (whose role sink the companion's server threads need).
set(LEAKWATCH_PRELOAD_MODULES leakwatch_base leakwatch_unwind leakwatch_heap leakwatch_threads)
add_library(leakwatch_preload_start OBJECT src/server/preload_start.cpp)
target_include_directories(leakwatch_preload_start PRIVATE ${PROJECT_SOURCE_DIR})
add_library(leakwatch_preload SHARED cmake/empty.cpp)
foreach(module IN LISTS LEAKWATCH_PRELOAD_MODULES ITEMS leakwatch_preload_start)
  target_sources(leakwatch_preload PRIVATE $<TARGET_OBJECTS:${module}>)
endforeach()
target_link_libraries(leakwatch_preload PRIVATE mimalloc PkgConfig::LIBUNWIND ${CMAKE_DL_LIBS} Threads::Threads)
target_link_options(leakwatch_preload PRIVATE LINKER:--no-undefined)
set_target_properties(leakwatch_preload PROPERTIES VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}
                      EXPORT_NAME preload)
add_library(leakwatch::preload ALIAS leakwatch_preload)

# libleakwatch_server.so: the rest of libleakwatch.so, dlopen'd by the preload library from its own
# directory (a module: nothing links it). It needs libleakwatch_preload.so (matched by soname to
# the copy already loaded, so base, heap and threads exist once) and finds it beside itself when
# loaded alone.
set(LEAKWATCH_COMPANION_MODULES
    leakwatch_unwind_symbolizer leakwatch_snapshot_model leakwatch_runtime
    leakwatch_snapshot leakwatch_capture leakwatch_profile leakwatch_cpu leakwatch_http leakwatch_server)
add_library(leakwatch_server_companion MODULE cmake/empty.cpp)
foreach(module IN LISTS LEAKWATCH_COMPANION_MODULES)
  target_sources(leakwatch_server_companion PRIVATE $<TARGET_OBJECTS:${module}>)
endforeach()
target_link_libraries(leakwatch_server_companion PRIVATE leakwatch_preload Boost::context protobuf::libprotobuf
                      ZLIB::ZLIB PkgConfig::LIBDW ${CMAKE_DL_LIBS} Threads::Threads)
target_link_options(leakwatch_server_companion PRIVATE LINKER:--no-undefined)
set_target_properties(leakwatch_server_companion PROPERTIES OUTPUT_NAME leakwatch_server PREFIX lib
                      BUILD_RPATH "$ORIGIN" INSTALL_RPATH "$ORIGIN")

# What a test or tool that preloads the tracker into a program must have built.
set(LEAKWATCH_PRELOAD_TARGETS leakwatch_preload leakwatch_server_companion)
