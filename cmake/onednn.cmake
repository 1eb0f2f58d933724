# oneDNN, found by its header and its library rather than by the package
# configuration it ships (dnnl-config.cmake). Debian builds oneDNN with the
# OpenCL GPU runtime, and that configuration then requires the OpenCL
# development files, which cnnk never uses (it runs oneDNN's CPU engine
# only) and which libdnnl-dev merely recommends. Finding the two files we
# use keeps the build's needs equal to what it uses, on a fresh system and in
# an arm64 multiarch sysroot alike. docs/DEPENDENCIES.md says more.
#
# Defines the imported target cnnk::dnnl and CNNK_DNNL_VERSION.
find_path(CNNK_DNNL_INCLUDE_DIR oneapi/dnnl/dnnl.h)
find_library(CNNK_DNNL_LIBRARY NAMES dnnl)
if(NOT CNNK_DNNL_INCLUDE_DIR OR NOT CNNK_DNNL_LIBRARY)
  message(FATAL_ERROR
    "oneDNN not found (header oneapi/dnnl/dnnl.h: ${CNNK_DNNL_INCLUDE_DIR}, "
    "library libdnnl: ${CNNK_DNNL_LIBRARY}). Install libdnnl-dev "
    "(scripts/setup.sh does) or configure with -DCNNK_WITH_ONEDNN=OFF.")
endif()

file(STRINGS "${CNNK_DNNL_INCLUDE_DIR}/oneapi/dnnl/dnnl_version.h" _cnnk_dnnl_ver
     REGEX "^#define DNNL_VERSION_(MAJOR|MINOR|PATCH) ")
set(CNNK_DNNL_VERSION "")
foreach(part MAJOR MINOR PATCH)
  string(REGEX MATCH "DNNL_VERSION_${part} +([0-9]+)" _m "${_cnnk_dnnl_ver}")
  list(APPEND CNNK_DNNL_VERSION "${CMAKE_MATCH_1}")
endforeach()
list(JOIN CNNK_DNNL_VERSION "." CNNK_DNNL_VERSION)
# The C API cnnk calls (dnnl_*_desc_init, dnnl_primitive_desc_create with an
# op descriptor) is oneDNN 2.x's; 3.0 replaced it.
if(CNNK_DNNL_VERSION VERSION_LESS 2.0 OR NOT CNNK_DNNL_VERSION VERSION_LESS 3.0)
  message(FATAL_ERROR "cnnk needs oneDNN 2.x (Debian 12's 2.6); found ${CNNK_DNNL_VERSION} "
                      "at ${CNNK_DNNL_INCLUDE_DIR}. Configure with -DCNNK_WITH_ONEDNN=OFF to build without it.")
endif()
message(STATUS "oneDNN ${CNNK_DNNL_VERSION}: ${CNNK_DNNL_LIBRARY}")

add_library(cnnk::dnnl UNKNOWN IMPORTED)
set_target_properties(cnnk::dnnl PROPERTIES
  IMPORTED_LOCATION "${CNNK_DNNL_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${CNNK_DNNL_INCLUDE_DIR}")
