/* AlexNet as torchvision defines it (torchvision/models/alexnet.py): the
 * one-GPU variant with 64-192-384-256-256 channels and no LRN. */
#include "nets/nets.h"

void cnnk_nets_alexnet(cnnk_net *n) {
    int x = cnnk_net_conv(n, "features.0", 0, 64, 11, 4, 2, true);
    x = cnnk_net_relu(n, "features.1", x);
    x = cnnk_net_maxpool(n, "features.2", x, 3, 2, 0, false);
    x = cnnk_net_conv(n, "features.3", x, 192, 5, 1, 2, true);
    x = cnnk_net_relu(n, "features.4", x);
    x = cnnk_net_maxpool(n, "features.5", x, 3, 2, 0, false);
    x = cnnk_net_conv(n, "features.6", x, 384, 3, 1, 1, true);
    x = cnnk_net_relu(n, "features.7", x);
    x = cnnk_net_conv(n, "features.8", x, 256, 3, 1, 1, true);
    x = cnnk_net_relu(n, "features.9", x);
    x = cnnk_net_conv(n, "features.10", x, 256, 3, 1, 1, true);
    x = cnnk_net_relu(n, "features.11", x);
    x = cnnk_net_maxpool(n, "features.12", x, 3, 2, 0, false);
    x = cnnk_nets_adaptive_avgpool(n, "avgpool", x, 6);
    x = cnnk_net_dropout(n, "classifier.0", x);
    x = cnnk_net_fc(n, "classifier.1", x, 4096);
    x = cnnk_net_relu(n, "classifier.2", x);
    x = cnnk_net_dropout(n, "classifier.3", x);
    x = cnnk_net_fc(n, "classifier.4", x, 4096);
    x = cnnk_net_relu(n, "classifier.5", x);
    cnnk_net_fc(n, "classifier.6", x, 1000);
}
