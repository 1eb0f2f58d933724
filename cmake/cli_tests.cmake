# Tests that drive the `cnnk` command line on the shipped shape lists.
set(CNNK_NETS alexnet vgg16 googlenet resnet50 densenet121)

# Without oneDNN (-DCNNK_WITH_ONEDNN=OFF) `cnnk validate --against onednn`
# refuses by design; the same lists then still prove every kernel against
# the reference, which is the half such a build can check.
set(CNNK_AGAINST_ONEDNN "")
if(CNNK_WITH_ONEDNN)
  set(CNNK_AGAINST_ONEDNN --against onednn)
endif()
foreach(net ${CNNK_NETS})
  # Every kernel (every ISA, every strategy) against the reference, and the
  # reference against oneDNN, on every layer of the net.
  add_test(NAME validate_${net}
           COMMAND cnnk_cli validate --batch shapes/${net}.txt --isa all --algo all
                   ${CNNK_AGAINST_ONEDNN} --quiet
           WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
  set_tests_properties(validate_${net} PROPERTIES LABELS network)
endforeach()
# YOLOv1 with the epilogue it runs with: leaky ReLU 0.1 (oneDNN: the post-op
# eltwise_relu with alpha 0.1). This CPU's best ISA only: its 448x448 layers
# under every ISA took 650 s of the CI pre-flight (the scalar ref kernels'
# own plans most of it); the full set, documented in docs/SHAPES.md, is
#   cnnk validate --batch shapes/yolov1.txt --isa all --algo all --against onednn --post leaky
add_test(NAME validate_yolov1
         COMMAND cnnk_cli validate --batch shapes/yolov1.txt --isa best --algo all
                 ${CNNK_AGAINST_ONEDNN} --post leaky --quiet
         WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(validate_yolov1 PROPERTIES LABELS network)
# fcn_resnet50 at 520x520: what is new in it, each distinct dilated 3x3 (65x65,
# dilation 2 and 4), the max pool and the 65 -> 520 resize, this CPU's best
# ISA. The whole list (55 convolutions, 142.7 GMACs of scalar reference: more
# than 9 minutes here: stopped unfinished) is the documented command of docs/SHAPES.md:
#   cnnk validate --batch shapes/fcn_resnet50.txt --isa all --algo all --against onednn
add_test(NAME validate_fcn_resnet50
         COMMAND sh -c "awk '/^--/ { conv = ($1 == \"--conv\"); print; next } /^#/ { next } !conv { print; next } /dh[0-9]/ { k = $0; sub(/n\".*/, \"\", k); if (!(k in seen)) { seen[k] = 1; print } }' shapes/fcn_resnet50.txt > \"$0\" && \"$1\" validate --batch \"$0\" --isa best --algo all $2 $3 --quiet"
                 ${CMAKE_CURRENT_BINARY_DIR}/fcn_resnet50_dilated.txt $<TARGET_FILE:cnnk_cli>
                 ${CNNK_AGAINST_ONEDNN}
         WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(validate_fcn_resnet50 PROPERTIES LABELS network)
# The bilinear resize's edge cases, every ISA, both coordinate rules (a few
# seconds: in the quick set).
add_test(NAME validate_resize
         COMMAND cnnk_cli validate --batch shapes/resize.txt --isa all
                 ${CNNK_AGAINST_ONEDNN} --quiet
         WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})

add_test(NAME validate_layers
         COMMAND cnnk_cli validate --batch shapes/layers.txt --isa all
                 ${CNNK_AGAINST_ONEDNN} --quiet
         WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})

# The hand-written edge cases (1x1 images, 3 input channels, odd channel
# counts, partial Winograd tiles, strides 2 to 4, batch 3), every ISA
# this build has, every strategy, with the residual and ReLU epilogue.
add_test(NAME validate_edge
         COMMAND cnnk_cli validate --batch shapes/edge.txt --isa all --algo all
                 ${CNNK_AGAINST_ONEDNN} --post sum_relu --quiet
         WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})

# The seeded random sweep, with every epilogue, integer and float data.
add_test(NAME validate_sweep
         COMMAND cnnk_cli validate --batch shapes/sweep.txt --isa all --algo all
                 ${CNNK_AGAINST_ONEDNN} --post sum_relu --quiet
         WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
add_test(NAME validate_sweep_float
         COMMAND cnnk_cli validate --batch shapes/sweep.txt --isa all --algo all
                 ${CNNK_AGAINST_ONEDNN} --fill float --seed 7 --quiet
         WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})

# In a cross build every command runs behind the emulator (the toolchain
# file's CMAKE_CROSSCOMPILING_EMULATOR, a list): ctest adds it to a test's
# own executable, these pass it on to what the test runs. '|' joins the
# list for cmake -P, whose -D would split it at ';'.
string(REPLACE ";" "|" CNNK_EMULATOR_ARG "${CMAKE_CROSSCOMPILING_EMULATOR}")

# The shipped sweep is exactly what its documented command generates.
add_test(NAME sweep_reproducible
         COMMAND ${CMAKE_COMMAND} -DCNNK=$<TARGET_FILE:cnnk_cli> "-DCNNK_EMULATOR=${CNNK_EMULATOR_ARG}"
                 -DEXPECTED=${CMAKE_CURRENT_SOURCE_DIR}/shapes/sweep.txt
                 -P ${CMAKE_CURRENT_SOURCE_DIR}/cmake/check_sweep.cmake)

# ONNX models and .npy tensors through run and validate: 0, 1 and 2
# (docs/ONNX.md); the models are tests/test_onnx.c's.
if(CNNK_WITH_ONNX)
  add_test(NAME onnx_cli
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/tests/onnx_cli.sh $<TARGET_FILE:test_onnx>
                   ${CMAKE_CROSSCOMPILING_EMULATOR} $<TARGET_FILE:cnnk_cli>
           WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
endif()

# Malformed descriptors and impossible shapes: exit 2 and a one-line message.
add_test(NAME cli_bad_input
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/tests/cli_bad_input.sh
                 ${CMAKE_CROSSCOMPILING_EMULATOR} $<TARGET_FILE:cnnk_cli>
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

# oneDNN's ISA cap holds for the whole process: the peer's test runs again
# at avx512_core, where oneDNN 2.6 has Winograd (3x3 stride-1 layers must
# run it, the others fall back to direct). On a CPU without avx512_core it
# says so and passes without checking Winograd; the avx2 run above still
# checks every fallback.
if(CNNK_WITH_ONEDNN AND TARGET test_onednn_peer)
  add_test(NAME test_onednn_peer_avx512_core
           COMMAND test_onednn_peer avx512_core
           WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
endif()

# The llvm-mca scripts (docs/MCA.md) on this build's own compile commands:
# loop extraction, FLOP counts, the network work sum; skipped (77) without
# llvm-19. On a sanitizer build it checks that the estimate is refused.
if(CNNK_X86)
  add_test(NAME mca_scripts
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tests/mca_scripts.sh ${CMAKE_BINARY_DIR} $<TARGET_FILE:cnnk_cli>
           WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
  set_tests_properties(mca_scripts PROPERTIES SKIP_RETURN_CODE 77 LABELS mca)
endif()

# `cnnk report` on bad input: exit 2, one line, no page written or changed.
add_test(NAME report_bad_input
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/tests/report_bad_input.sh
                 $<TARGET_FILE:cnnk_cli> ${CMAKE_CURRENT_SOURCE_DIR}
         WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})

# PyTorch as the whole-network oracle (docs/ORACLE.md): torchvision's
# networks, exported to ONNX with seeded random weights (cached in
# BUILD/oracle-cache), through `cnnk validate --onnx` on every plan of every
# ISA, and cnnk's own definitions given the same weights. Skipped (77)
# without /usr/bin/python3's torch, torchvision and onnx; not in a cross
# build (whole networks under the emulator take hours).
if(NOT CMAKE_CROSSCOMPILING)
  add_test(NAME onnx_oracle
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/tests/onnx_oracle.sh
                   $<TARGET_FILE:cnnk_cli> ${CMAKE_BINARY_DIR}
           WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
  set_tests_properties(onnx_oracle PROPERTIES LABELS network SKIP_RETURN_CODE 77)
endif()
