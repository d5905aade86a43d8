# The pages' front end: npm installs the pinned packages (web/package-lock.json) into the build
# tree, esbuild bundles each page's script and styles, and leakwatch_embed_assets() compiles the
# results into a C++ source, so a binary serves its pages with nothing fetched or read at run time.
# No node_modules and no bundle is ever written to the source tree.
find_program(LEAKWATCH_NPM npm REQUIRED)
find_program(LEAKWATCH_NODE node REQUIRED)
set(LEAKWATCH_WEB_DIR ${PROJECT_BINARY_DIR}/web)
set(LEAKWATCH_WEB_MODULES ${LEAKWATCH_WEB_DIR}/node_modules)
set(LEAKWATCH_ESBUILD ${LEAKWATCH_WEB_MODULES}/.bin/esbuild)

add_custom_command(
  OUTPUT ${LEAKWATCH_WEB_MODULES}/.package-lock.json
  COMMAND ${CMAKE_COMMAND} -E make_directory ${LEAKWATCH_WEB_DIR}
  COMMAND ${CMAKE_COMMAND} -E copy ${PROJECT_SOURCE_DIR}/web/package.json ${PROJECT_SOURCE_DIR}/web/package-lock.json
          ${LEAKWATCH_WEB_DIR}/
  COMMAND ${LEAKWATCH_NPM} ci --no-audit --no-fund --loglevel=error
  WORKING_DIRECTORY ${LEAKWATCH_WEB_DIR}
  DEPENDS ${PROJECT_SOURCE_DIR}/web/package.json ${PROJECT_SOURCE_DIR}/web/package-lock.json
  COMMENT "npm ci (the pages' pinned packages)"
  VERBATIM)
add_custom_target(leakwatch_web_modules DEPENDS ${LEAKWATCH_WEB_MODULES}/.package-lock.json)

# leakwatch_web_bundle(<name> <entry .js under web/>): ${LEAKWATCH_WEB_DIR}/<name>.js and .css.
function(leakwatch_web_bundle name entry)
  get_filename_component(entry_dir ${PROJECT_SOURCE_DIR}/web/${entry} DIRECTORY)
  file(GLOB page_sources ${entry_dir}/*.js ${entry_dir}/*.css)
  add_custom_command(
    OUTPUT ${LEAKWATCH_WEB_DIR}/${name}.js ${LEAKWATCH_WEB_DIR}/${name}.css
    COMMAND ${CMAKE_COMMAND} -E env NODE_PATH=${LEAKWATCH_WEB_MODULES}
            ${LEAKWATCH_ESBUILD} ${PROJECT_SOURCE_DIR}/web/${entry} --bundle --minify --target=es2020
            --format=iife --log-level=warning --outfile=${LEAKWATCH_WEB_DIR}/${name}.js
    DEPENDS ${page_sources} ${LEAKWATCH_WEB_MODULES}/.package-lock.json
    COMMENT "esbuild ${entry}"
    VERBATIM)
endfunction()

# leakwatch_embed_assets(<out .cpp> <lookup function> HEADER <header> NAMESPACE <ns> <name>=<file> ...):
# a C++ source defining `const lw::http::EmbeddedAsset* <ns>::<lookup function>(std::string_view)`
# (declared in <header>) over the files' bytes.
function(leakwatch_embed_assets out function)
  cmake_parse_arguments(E "" "HEADER;NAMESPACE" "" ${ARGN})
  set(files)
  set(pairs)
  foreach(pair IN LISTS E_UNPARSED_ARGUMENTS)
    string(REPLACE "=" ";" parts ${pair})
    list(GET parts 1 file)
    list(APPEND files ${file})
    list(APPEND pairs ${pair})
  endforeach()
  string(REPLACE ";" "|" pairs_arg "${pairs}")
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DFUNCTION=${function} -DHEADER=${E_HEADER} -DNAMESPACE=${E_NAMESPACE}
            -DPAIRS=${pairs_arg} -P ${PROJECT_SOURCE_DIR}/cmake/embed_assets.cmake
    DEPENDS ${files} ${PROJECT_SOURCE_DIR}/cmake/embed_assets.cmake
    COMMENT "embedding ${function}'s assets"
    VERBATIM)
endfunction()
