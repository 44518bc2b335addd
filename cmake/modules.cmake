# vk_module(NAME DIR [RECURSE] [DEPS ...]): a static library from DIR's *.cc
# (tests and fuzz entry points excluded) plus a `NAME_test` gtest executable
# from DIR's *_test.cc, registered with ctest under the `unit` label.
function(vk_module name)
  cmake_parse_arguments(ARG "RECURSE" "DIR" "DEPS" ${ARGN})
  if(ARG_RECURSE)
    file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${ARG_DIR}/*.cc)
  else()
    file(GLOB sources CONFIGURE_DEPENDS ${ARG_DIR}/*.cc)
  endif()
  set(tests ${sources})
  vk_check_declared_deps(${name} "${ARG_DIR}" "${sources}" "${ARG_DEPS}")
  list(FILTER sources EXCLUDE REGEX "_test\\.cc$")
  list(FILTER tests INCLUDE REGEX "_test\\.cc$")
  if(sources)
    add_library(${name} STATIC ${sources})
    set(scope PUBLIC)
  else()
    add_library(${name} INTERFACE)  # a module whose code has not landed yet
    set(scope INTERFACE)
  endif()
  target_include_directories(${name} ${scope} ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(${name} ${scope} ${ARG_DEPS})
  if(tests)
    add_executable(${name}_test ${tests})
    target_link_libraries(${name}_test PRIVATE ${name} GTest::gtest GTest::gtest_main GTest::gmock)
    gtest_discover_tests(${name}_test PROPERTIES LABELS unit DISCOVERY_TIMEOUT 60)
  endif()
endfunction()

# A target that includes another module's header must declare that module
# (DESIGN.md §2: dependencies point inward and are written down, never picked
# up transitively). Checked at configure time over the non-test sources:
# `#include "net/..."` in a module needs vk_net in its DEPS.
function(vk_check_declared_deps name dir sources deps)
  get_filename_component(own ${dir} NAME)
  foreach(source ${sources})
    if(source MATCHES "_test\\.cc$|/testing/")
      continue()
    endif()
    file(STRINGS ${source} includes REGEX "^#include \"[a-z_]+/")
    foreach(line ${includes})
      string(REGEX REPLACE "^#include \"([a-z_]+)/.*" "\\1" used "${line}")
      if(used STREQUAL own OR used STREQUAL "virtkit")
        continue()
      endif()
      if(NOT "vk_${used}" IN_LIST deps)
        message(FATAL_ERROR "${source} includes ${used}/ but ${name} does not declare vk_${used} "
                            "in its DEPS (cmake/modules.cmake, src/CMakeLists.txt)")
      endif()
    endforeach()
  endforeach()
endfunction()
