/* Closes kernels/common/wino_tile.h: an ISA's winograd.c includes this
 * after its CNNK_WINO_TRANSFORMS expansions, so the template's vocabulary
 * (wino_1d.h's short arithmetic names included) ends with the file. */
#undef CNNK_WINO_TRANSFORMS
#undef CNNK_WINO_VEC
#undef CNNK_WINO_MASK
#undef CNNK_WINO_VL
#undef CNNK_WINO_ZERO
#undef CNNK_WINO_MASK_OF
#undef CNNK_WINO_LOAD
#undef CNNK_WINO_LOADU
#undef CNNK_WINO_STOREU
#undef CNNK_WINO_RELU
#undef CNNK_WINO_SET1
#undef CNNK_WINO_LEAKY
#undef CNNK_WINO_TILES_CASE
#undef CNNK_WINO_STORE_EPILOGUE
#undef CNNK_WINO_ATTR
#undef ADD
#undef SUB
#undef MUL
#undef FMA
#undef FNMA
#undef K
