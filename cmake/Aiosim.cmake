# Helpers shared by every folder.
# SPDX-License-Identifier: GPL-2.0-or-later

# aiosim_add_core(PLATFORM <name> IMPL_INCLUDE <dir> IMPL_LIB <target>)
#
# Compiles the AIO core (core/aio) once more, against one platform. The platform
# supplies two things:
#   - IMPL_INCLUDE: a folder holding "aiosim_platform_impl.h", the compile-time
#     primitives (Atomic<T>, Shared<T>, QemuMutex, ...). core/platform/sync.h includes
#     it by that name, so the core never names a platform;
#   - IMPL_LIB: a library with whatever those primitives need at link time.
# The result is the target aiosim_core_<name> with the alias aiosim::core_<name>.
function(aiosim_add_core)
  cmake_parse_arguments(ARG "" "PLATFORM;IMPL_INCLUDE;IMPL_LIB" "" ${ARGN})
  set(target aiosim_core_${ARG_PLATFORM})
  add_library(${target} STATIC ${AIOSIM_CORE_AIO_SOURCES})
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR} ${ARG_IMPL_INCLUDE})
  target_link_libraries(${target} PUBLIC ${ARG_IMPL_LIB} absl::strings absl::str_format
                                         absl::status absl::statusor)
  add_library(aiosim::core_${ARG_PLATFORM} ALIAS ${target})
endfunction()

# aiosim_add_test(NAME <target> SOURCES ... LIBS ... LABELS ... [TIMEOUT s]
#                 [ABANDONS_EXECUTIONS])
# One gtest binary; every test in it becomes a CTest test with the given labels.
# ABANDONS_EXECUTIONS: the binary runs simulations that fail; a failed execution's
# fibers are abandoned, not unwound, so what they allocated outside the tracked core
# heap is never freed. LeakSanitizer is turned off for such binaries (the simulator's
# own leak detector checks the core's objects).
function(aiosim_add_test)
  cmake_parse_arguments(ARG "ABANDONS_EXECUTIONS" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SOURCES})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main)
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  # CTest labels are a list; escape the separators so PROPERTIES keeps it whole.
  string(REPLACE ";" "\\;" labels "${ARG_LABELS}")
  set(env "")
  if(ARG_ABANDONS_EXECUTIONS)
    set(env ENVIRONMENT ASAN_OPTIONS=detect_leaks=0)
  endif()
  gtest_discover_tests(${ARG_NAME} PROPERTIES LABELS "${labels}" TIMEOUT ${ARG_TIMEOUT} ${env}
                       DISCOVERY_TIMEOUT 60)
endfunction()
