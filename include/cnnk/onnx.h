/* ONNX models in: a graph and its initializers become a cnnk_net (the
 * builder of cnnk/net.h) with the initializers as its weights, so an
 * imported network gets the runner's planning and fusion like a built-in
 * one. docs/ONNX.md lists the operators and attributes taken and refused.
 *
 * Statuses: CNNK_EUNSUPPORTED for a valid model cnnk cannot run (an
 * operator, attribute, opset or data type it does not take; the message
 * names the node, its operator and what is missing); CNNK_EPARSE for a
 * file that is not a well-formed ONNX model (truncated, a dangling input,
 * a cycle, duplicate names, initializer sizes that do not match their
 * dims or their use); CNNK_EOVERFLOW for dimensions past CNNK_MAX_DIM or
 * tensors past CNNK_MAX_ELEMS; CNNK_EINVAL for a batch that the model
 * fixes otherwise; CNNK_EIO for a file that cannot be read. Never a
 * crash, whatever the bytes (fuzz/fuzz_onnx.c). */
#ifndef CNNK_ONNX_H
#define CNNK_ONNX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cnnk/net.h"
#include "cnnk/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The default-domain opsets accepted (torch 1.13 exports 7..17). */
#define CNNK_ONNX_OPSET_MIN 7
#define CNNK_ONNX_OPSET_MAX 17

/* false in a build with CNNK_WITH_ONNX=OFF: every load is then
 * CNNK_EUNSUPPORTED, "built without ONNX support". */
bool cnnk_onnx_available(void);

/* Builds *out (with weights) from the model in path for batch mb; mb 0
 * takes the model's own batch (1 where it is dynamic). A model with a
 * fixed batch other than mb is CNNK_EINVAL. The network is named after
 * the file's stem ("resnet50" for dir/resnet50.onnx). */
cnnk_status cnnk_onnx_load(const char *path, int64_t mb, cnnk_net **out, cnnk_error *err);

/* The same from len bytes in memory; name names the network. */
cnnk_status cnnk_onnx_load_mem(const void *buf, size_t len, const char *name, int64_t mb,
                               cnnk_net **out, cnnk_error *err);

/* The same with protobuf-c's unpacking held to `budget` bytes of
 * allocations (cnnk_onnx_load_mem's budget is twice len plus 64 MiB): a
 * model that needs more is CNNK_EOVERFLOW, whatever the allocation that
 * crosses it. */
cnnk_status cnnk_onnx_load_mem_budget(const void *buf, size_t len, const char *name, int64_t mb,
                                      size_t budget, cnnk_net **out, cnnk_error *err);

/* "resnet50" for "dir/resnet50.onnx": the stem of path, in buf. */
void cnnk_onnx_stem(const char *path, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
