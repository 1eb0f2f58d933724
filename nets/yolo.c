/* YOLOv1 (Redmon, Divvala, Girshick, Farhadi, "You Only Look Once: Unified,
 * Real-Time Object Detection", CVPR 2016), the network of its Figure 3: 24
 * convolutions and 2 fully connected layers on a 448x448 input, S = 7,
 * B = 2, C = 20, so the last layer's 1470 outputs are the 7x7x30 grid.
 *
 * What the paper leaves to its released darknet model, and what is taken
 * here (docs/NETWORKS.md says why):
 *   - "same" padding: k/2 for every kxk convolution (3 for the 7x7, 1 for
 *     the 3x3s, 0 for the 1x1s), so the 448 input gives 7x7 at the end;
 *   - every convolution and both FC layers have a bias, and there is no
 *     batch-norm (v1 predates it in darknet's YOLO);
 *   - leaky ReLU 0.1 after every layer but the last, which is linear;
 *   - dropout (rate 0.5 in training) after the first FC: the identity here;
 *   - the max pools are 2x2 stride 2.
 * The released yolov1 cfg replaces the 4096-wide FC by a locally connected
 * layer and differs in its head; this is the paper's network.
 *
 * Node names follow a PyTorch nn.Sequential of the layers in order:
 * features.<i> (convolutions, their leaky ReLUs and the pools) and
 * classifier.<i> (flatten is implicit in the FC node). */
#include <stdio.h>

#include "nets/nets.h"

enum { YOLO_S = 7, YOLO_B = 2, YOLO_C = 20 };

#define YOLO_LEAKY 0.1f
#define YOLO_THRESH 0.2f /* darknet's test threshold (yolo.c) */
#define YOLO_NMS 0.5f    /* its per-class NMS */
/* Rows of detections: S*S*B = 98 boxes, each at most once. */
enum { YOLO_MAX_DET = YOLO_S * YOLO_S * YOLO_B };

typedef struct seq {
    cnnk_net *n;
    int x;   /* the current value */
    int idx; /* the next module index of features.<i> */
} seq;

static void conv_leaky(seq *s, int64_t oc, int64_t k, int64_t stride) {
    char name[32];
    CNNK_NETS_NAME(name, "features.%d", s->idx++);
    s->x = cnnk_net_conv(s->n, name, s->x, oc, k, stride, k / 2, true);
    CNNK_NETS_NAME(name, "features.%d", s->idx++);
    s->x = cnnk_net_leaky_relu(s->n, name, s->x, YOLO_LEAKY);
}

static void maxpool(seq *s) {
    char name[32];
    CNNK_NETS_NAME(name, "features.%d", s->idx++);
    s->x = cnnk_net_maxpool(s->n, name, s->x, 2, 2, 0, false);
}

/* The grid's 1470 values, ending in the FC "classifier.3". */
static int yolov1_body(cnnk_net *n) {
    seq s = {n, 0, 0};
    conv_leaky(&s, 64, 7, 2); /* 448 -> 224 */
    maxpool(&s);              /* 112 */
    conv_leaky(&s, 192, 3, 1);
    maxpool(&s); /* 56 */
    conv_leaky(&s, 128, 1, 1);
    conv_leaky(&s, 256, 3, 1);
    conv_leaky(&s, 256, 1, 1);
    conv_leaky(&s, 512, 3, 1);
    maxpool(&s); /* 28 */
    for (int i = 0; i < 4; ++i) {
        conv_leaky(&s, 256, 1, 1);
        conv_leaky(&s, 512, 3, 1);
    }
    conv_leaky(&s, 512, 1, 1);
    conv_leaky(&s, 1024, 3, 1);
    maxpool(&s); /* 14 */
    for (int i = 0; i < 2; ++i) {
        conv_leaky(&s, 512, 1, 1);
        conv_leaky(&s, 1024, 3, 1);
    }
    conv_leaky(&s, 1024, 3, 1);
    conv_leaky(&s, 1024, 3, 2); /* 7 */
    conv_leaky(&s, 1024, 3, 1);
    conv_leaky(&s, 1024, 3, 1);
    int x = cnnk_net_fc(n, "classifier.0", s.x, 4096);
    x = cnnk_net_leaky_relu(n, "classifier.1", x, YOLO_LEAKY);
    x = cnnk_net_dropout(n, "classifier.2", x);
    return cnnk_net_fc(n, "classifier.3", x, YOLO_S * YOLO_S * (YOLO_B * 5 + YOLO_C));
}

void cnnk_nets_yolov1(cnnk_net *n) { yolov1_body(n); }

/* yolov1 with its boxes out: darknet's detection layer at test time (its
 * yolo.c test_yolo / draw_detections): class-specific scores conf * class
 * probability kept above 0.2, per-class NMS at IoU 0.5 (darknet's
 * continuous box_iou), each box reported once as its best surviving class,
 * at most YOLO_MAX_DET rows (docs/NETWORKS.md). No parameters: yolov1's
 * count. */
void cnnk_nets_yolov1_det(cnnk_net *n) {
    const int x = yolov1_body(n);
    cnnk_net_yolo_detect(n, "detect", x, YOLO_S, YOLO_B, YOLO_C, YOLO_THRESH, YOLO_NMS,
                         YOLO_MAX_DET);
}
