# Tests that drive the `cnnk` command line on the shipped shape lists.
set(CNNK_NETS alexnet vgg16 googlenet resnet50 densenet121)
foreach(net ${CNNK_NETS})
  # Every kernel (every ISA, every strategy) against the reference, and the
  # reference against oneDNN, on every layer of the net.
  add_test(NAME validate_${net}
           COMMAND cnnk_cli validate --batch shapes/${net}.txt --isa all --algo all
                   --against onednn --quiet
           WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
  set_tests_properties(validate_${net} PROPERTIES LABELS network)
endforeach()

add_test(NAME validate_layers
         COMMAND cnnk_cli validate --batch shapes/layers.txt --isa all --against onednn --quiet
         WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})

# The seeded random sweep, with every epilogue, integer and float data.
add_test(NAME validate_sweep
         COMMAND cnnk_cli validate --batch shapes/sweep.txt --isa all --algo all
                 --against onednn --post sum_relu --quiet
         WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
add_test(NAME validate_sweep_float
         COMMAND cnnk_cli validate --batch shapes/sweep.txt --isa all --algo all
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

# Whole networks at full size: every plan of the best ISA this build has and
# the machine runs (`--isa best`) against the reference plan (logits and
# top-5). The reference ISA's plans run at reduced size in test_runner; VGG
# takes only 224 (its adaptive pool).
foreach(net alexnet vgg11 vgg16 googlenet resnet50 densenet121)
  add_test(NAME validate_net_${net}
           COMMAND cnnk_cli validate --net ${net} --isa best
           WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
  set_tests_properties(validate_net_${net} PROPERTIES LABELS network)
endforeach()
