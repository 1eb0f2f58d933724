# Tests that drive the `cnnk` command line on the shipped shape lists.
set(CNNK_NETS alexnet vgg16 googlenet resnet50 densenet121)
foreach(net ${CNNK_NETS})
  # The reference (every strategy) against oneDNN on every layer of the net.
  add_test(NAME validate_${net}
           COMMAND cnnk_cli validate --batch shapes/${net}.txt --isa ref --algo all
                   --against onednn --quiet
           WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
  set_tests_properties(validate_${net} PROPERTIES LABELS network)
endforeach()

add_test(NAME validate_layers
         COMMAND cnnk_cli validate --batch shapes/layers.txt --against onednn --quiet
         WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})

# The seeded random sweep, with every epilogue, integer and float data.
add_test(NAME validate_sweep
         COMMAND cnnk_cli validate --batch shapes/sweep.txt --isa ref --algo all
                 --against onednn --post sum_relu --quiet
         WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
add_test(NAME validate_sweep_float
         COMMAND cnnk_cli validate --batch shapes/sweep.txt --isa ref --algo all
                 --against onednn --fill float --seed 7 --quiet
         WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})

# The shipped sweep is exactly what its documented command generates.
add_test(NAME sweep_reproducible
         COMMAND ${CMAKE_COMMAND} -DCNNK=$<TARGET_FILE:cnnk_cli>
                 -DEXPECTED=${CMAKE_CURRENT_SOURCE_DIR}/shapes/sweep.txt
                 -P ${CMAKE_CURRENT_SOURCE_DIR}/cmake/check_sweep.cmake)

# Malformed descriptors and impossible shapes: exit 2 and a one-line message.
add_test(NAME cli_bad_input
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/tests/cli_bad_input.sh $<TARGET_FILE:cnnk_cli>
         WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
