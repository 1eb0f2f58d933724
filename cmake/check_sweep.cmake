# Regenerates the sweep with the command in its header and compares.
# CNNK_EMULATOR: the cross build's emulator, '|'-joined (cli_tests.cmake).
string(REPLACE "|" ";" emulator "${CNNK_EMULATOR}")
execute_process(COMMAND ${emulator} ${CNNK} sweep --seed 1 --count 1200
                OUTPUT_VARIABLE got RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cnnk sweep failed with ${rc}")
endif()
file(READ ${EXPECTED} want)
if(NOT got STREQUAL want)
  message(FATAL_ERROR "shapes/sweep.txt differs from `cnnk sweep --seed 1 --count 1200`")
endif()
