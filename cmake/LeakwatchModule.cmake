# leakwatch_module(NAME <name> LAYER <n> SOURCES ... [DEPS ...] [PRIVATE_DEPS ...])
#
# One static library per module, named leakwatch_<name> with the alias leakwatch::<name>. Sources
# include each other from the project root ("src/base/check.hpp", "runtime/task.hpp"); public
# headers come from include/. DEPS are other modules (by short name) or imported targets; the
# layering test (tests/integration/layering_test.cpp) checks the #include lines against LAYER.
set(LEAKWATCH_MODULE_NAMES base unwind unwind_symbolizer snapshot_model runtime heap threads snapshot capture profile cpu
    store diff http server)

function(leakwatch_module)
  cmake_parse_arguments(M "" "NAME;LAYER" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  set(target leakwatch_${M_NAME})
  add_library(${target} STATIC ${M_SOURCES})
  add_library(leakwatch::${M_NAME} ALIAS ${target})
  target_include_directories(${target}
    PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
           $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    PRIVATE ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
  target_compile_features(${target} PUBLIC cxx_std_20)
  set_target_properties(${target} PROPERTIES LEAKWATCH_LAYER ${M_LAYER} EXPORT_NAME ${M_NAME})
  foreach(dep IN LISTS M_DEPS)
    if(dep IN_LIST LEAKWATCH_MODULE_NAMES)
      target_link_libraries(${target} PUBLIC leakwatch_${dep})
    else()
      target_link_libraries(${target} PUBLIC ${dep})
    endif()
  endforeach()
  foreach(dep IN LISTS M_PRIVATE_DEPS)
    if(dep IN_LIST LEAKWATCH_MODULE_NAMES)
      target_link_libraries(${target} PRIVATE leakwatch_${dep})
    else()
      target_link_libraries(${target} PRIVATE ${dep})
    endif()
  endforeach()
  set_property(GLOBAL APPEND PROPERTY LEAKWATCH_MODULES ${target})
endfunction()

# leakwatch_protobuf(<out_var> <proto file in the current source dir>)
#
# Generates C++ for a .proto with the project root as protoc's only import directory, so the file
# is registered in protobuf's process-wide pool under its project path ("src/snapshot/snapshot.proto",
# not a bare "snapshot.proto" that a host program might also register: a second registration of one
# name aborts the process) and "src/<dir>/<name>.pb.h" resolves from the build directory.
# protobuf_generate() in CMake 3.25 always puts the proto's own directory first on the import path.
function(leakwatch_protobuf out_var proto)
  file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/${proto})
  string(REGEX REPLACE "\\.proto$" "" stem ${rel})
  set(outputs ${PROJECT_BINARY_DIR}/${stem}.pb.cc ${PROJECT_BINARY_DIR}/${stem}.pb.h)
  add_custom_command(
    OUTPUT ${outputs}
    COMMAND protobuf::protoc --cpp_out ${PROJECT_BINARY_DIR} -I ${PROJECT_SOURCE_DIR}
            ${CMAKE_CURRENT_SOURCE_DIR}/${proto}
    DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${proto} protobuf::protoc
    COMMENT "Generating ${stem}.pb.{h,cc}"
    VERBATIM)
  set(${out_var} ${outputs} PARENT_SCOPE)
endfunction()
