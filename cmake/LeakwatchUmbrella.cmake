# leakwatch::leakwatch: the in-process tracker as one shared library, libleakwatch.so.
#
# It is shared (not a bag of static archives) for two reasons: a program that links it gets our
# malloc/new ahead of glibc's through ordinary symbol lookup order, and the very same objects serve
# as libleakwatch_preload.so for unmodified programs (LD_PRELOAD). Every module object goes in
# whole (the interposer and the start-up constructor are referenced by no one); linking the module
# archives as well brings their third-party dependencies along.
set(LEAKWATCH_IN_PROCESS_MODULES
    leakwatch_base leakwatch_unwind leakwatch_snapshot_model leakwatch_runtime leakwatch_heap
    leakwatch_threads
    leakwatch_snapshot leakwatch_capture leakwatch_profile leakwatch_server)

foreach(lib leakwatch leakwatch_preload)
  add_library(${lib} SHARED cmake/empty.cpp)
  foreach(module IN LISTS LEAKWATCH_IN_PROCESS_MODULES)
    target_sources(${lib} PRIVATE $<TARGET_OBJECTS:${module}>)
  endforeach()
  target_link_libraries(${lib} PRIVATE ${LEAKWATCH_IN_PROCESS_MODULES})
  target_include_directories(${lib} INTERFACE
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_compile_features(${lib} INTERFACE cxx_std_20)
  set_target_properties(${lib} PROPERTIES VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR})
endforeach()
add_library(leakwatch::leakwatch ALIAS leakwatch)
add_library(leakwatch::preload ALIAS leakwatch_preload)
set_target_properties(leakwatch PROPERTIES EXPORT_NAME leakwatch)
set_target_properties(leakwatch_preload PROPERTIES EXPORT_NAME preload)
