# cnnk-bench: Google Benchmark (Debian's libbenchmark-dev) behind a C
# header; bench/gbench.cc is the project's one C++ file.
find_package(benchmark REQUIRED)
find_package(cJSON REQUIRED)

# The revision the benchmarks were built from goes into their context
# (and --record's history): cnnk_git_rev.h, rewritten at every build when
# the revision changed (cmake/git_rev.cmake; "-dirty" for a modified tree,
# "unknown" outside a git tree).
set(CNNK_GEN_DIR ${CMAKE_CURRENT_BINARY_DIR}/generated)
add_custom_target(cnnk_git_rev
  COMMAND ${CMAKE_COMMAND} -DSRC=${CMAKE_CURRENT_SOURCE_DIR}
          -DOUT=${CNNK_GEN_DIR}/cnnk_git_rev.h -P ${CMAKE_CURRENT_SOURCE_DIR}/cmake/git_rev.cmake
  BYPRODUCTS ${CNNK_GEN_DIR}/cnnk_git_rev.h
  COMMENT "cnnk_git_rev.h")

# The wrapper alone, so the C test of it links without the benchmarks.
add_library(cnnk_gbench STATIC bench/gbench.cc)
target_include_directories(cnnk_gbench PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(cnnk_gbench PUBLIC benchmark::benchmark)

file(GLOB CNNK_BENCH_SRC CONFIGURE_DEPENDS bench/*.c)
add_executable(cnnk_bench ${CNNK_BENCH_SRC})
set_target_properties(cnnk_bench PROPERTIES OUTPUT_NAME cnnk-bench LINKER_LANGUAGE CXX)
add_dependencies(cnnk_bench cnnk_git_rev)
target_include_directories(cnnk_bench PRIVATE ${CNNK_GEN_DIR})
# --main's PyTorch helper, scripts/torch-peer.py, found from any working
# directory (bench/torchpeer.c).
target_compile_definitions(cnnk_bench PRIVATE CNNK_SOURCE_DIR="${CMAKE_CURRENT_SOURCE_DIR}")
target_link_libraries(cnnk_bench PRIVATE cnnk_gbench cnnk_validate cnnk_history cjson OpenMP::OpenMP_C)

# tests/test_gbench.c needs the C++ wrapper; the top-level loop has made it
# a test already, this links it.
if(TARGET test_gbench)
  target_link_libraries(test_gbench PRIVATE cnnk_gbench cjson)
  set_target_properties(test_gbench PROPERTIES LINKER_LANGUAGE CXX)
endif()

# cnnk-bench's oneDNN flags, their errors and defaults, and --main's table
# and JSON verdicts on a small network (about a minute).
if(CNNK_WITH_ONEDNN)
  add_test(NAME bench_cli
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/tests/bench_cli.sh
                   $<TARGET_FILE:cnnk_bench> $<TARGET_FILE:cnnk_cli>
           WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
endif()

# --main --set=classic|detseg|all: refusals, each set's rows, the second
# table of a tiny run against its JSON (seconds).
if(CNNK_WITH_ONEDNN)
  add_test(NAME bench_sets
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/tests/bench_sets.sh $<TARGET_FILE:cnnk_bench>
           WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
endif()

# Results files: destinations refused before any work, links written
# through, failed benchmarks as exit statuses 2 and 3 that keep the
# previous results (docs/EXIT_CODES.md; about a minute).
if(TARGET cnnk_bench AND NOT CMAKE_CROSSCOMPILING)
  add_test(NAME results_files
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/tests/results_files.sh
                   $<TARGET_FILE:cnnk_cli> $<TARGET_FILE:cnnk_bench>
                   $<IF:$<BOOL:${CNNK_SANITIZE}>,sanitized,plain>
           WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
endif()

# cnnk compare's exit statuses on crafted JSON, and the history database
# end to end: cnnk-bench --record twice, compare --db (docs/COMPARE.md,
# docs/HISTORY.md; seconds).
if(TARGET cnnk_bench AND NOT CMAKE_CROSSCOMPILING)
  add_test(NAME compare_cli
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/tests/compare_cli.sh
                   $<TARGET_FILE:cnnk_cli> $<TARGET_FILE:cnnk_bench>
                   $<IF:$<BOOL:${CNNK_SANITIZE}>,sanitized,plain>
           WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
endif()

# `cnnk report` rendered by headless Chromium: pages from a checked-in
# cnnk-bench JSON, a fresh small run and a history database, each checked
# as a PNG and as a DOM of the expected charts (docs/REPORT.md; skipped,
# exit 77, without chromium).
if(TARGET cnnk_bench AND NOT CMAKE_CROSSCOMPILING)
  add_test(NAME report_chromium
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/tests/report_chromium.sh
                   $<TARGET_FILE:cnnk_cli> $<TARGET_FILE:cnnk_bench> ${CMAKE_CURRENT_SOURCE_DIR}
           WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
  set_tests_properties(report_chromium PROPERTIES SKIP_RETURN_CODE 77)
endif()
