# Cross build for AArch64 Linux from an x86-64 Debian 12 host:
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
# Compiler: Debian's gcc-aarch64-linux-gnu. Libraries (hwloc, cJSON, libgomp,
# Google Benchmark) come from Debian's arm64 multiarch packages under
# /usr/lib/aarch64-linux-gnu (scripts/setup.sh --arm64 installs them).
# Tests run through Debian's qemu-aarch64 (package qemu-user), which ctest
# puts in front of every test command (CMAKE_CROSSCOMPILING_EMULATOR).
# A native AArch64 build uses the same CMakeLists.txt with no toolchain file.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CNNK_TRIPLE aarch64-linux-gnu)

set(CMAKE_C_COMPILER ${CNNK_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${CNNK_TRIPLE}-g++)

# The multiarch layout: arm64 libraries in /usr/lib/aarch64-linux-gnu,
# headers shared in /usr/include (the arm64 compiler searches both).
set(CMAKE_LIBRARY_ARCHITECTURE ${CNNK_TRIPLE})
set(CMAKE_FIND_ROOT_PATH /usr/${CNNK_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# pkg-config must read the arm64 .pc files, never the host's.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/${CNNK_TRIPLE}/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")

# ctest runs each AArch64 binary through user-mode emulation. -L / makes
# the emulated loader the multiarch one (/lib/ld-linux-aarch64.so.1, from
# libc6:arm64, which the arm64 library packages pull in), matching the
# libc.so.6 that ld.so.cache resolves to /lib/aarch64-linux-gnu. With
# -L /usr/aarch64-linux-gnu the loader came from libc6-arm64-cross
# (2.36-8cross1) and libc from libc6:arm64 (2.36-9+deb12u14): two builds
# of glibc whose private layout differ, and the first pthread_create
# looped forever in the stack cache walk (every OpenMP kernel hung).
find_program(CNNK_QEMU_AARCH64 qemu-aarch64 REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR ${CNNK_QEMU_AARCH64};-L;/)
