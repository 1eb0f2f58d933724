/* The report page: sections in the order a reader asks (which plan wins
 * each network, where each layer's kernels stand against the machine's
 * roofs, which kernel to use per layer, how the networks moved over
 * revisions), each an inline SVG drawn here with plain arithmetic. */
#define _POSIX_C_SOURCE 200809L
#include "tools/report_html.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a growing text buffer ---------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if (b->p && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->len + (size_t)n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
}

/* Text and attribute values, escaped. */
static void sb_esc(sbuf *b, const char *s) {
    for (; *s; ++s) {
        switch (*s) {
        case '&': sb_printf(b, "&amp;"); break;
        case '<': sb_printf(b, "&lt;"); break;
        case '>': sb_printf(b, "&gt;"); break;
        case '"': sb_printf(b, "&quot;"); break;
        case '\'': sb_printf(b, "&#39;"); break;
        default: sb_printf(b, "%c", *s);
        }
    }
}

/* ---- benchmark names ------------------------------------------------------------ */

/* net/<net>/<side>/<isa>/<rest> or layer/<net>/<layer>/<side>/<isa>[/<rest>]
 * with side cnnk or onednn, or net/<net>/pytorch/eager (cnnk-bench --main's
 * PyTorch column). Layer names may hold '/', so the side is found as the
 * last "/cnnk/", "/onednn/" or "/pytorch/" segment. */
typedef struct bname {
    char family[8], net[64], layer[128], side[8], kernel[128];
} bname;

static bool parse_name(const char *name, bname *o) {
    memset(o, 0, sizeof *o);
    const char *slash = strchr(name, '/');
    if (!slash || (size_t)(slash - name) >= sizeof o->family) return false;
    snprintf(o->family, sizeof o->family, "%.*s", (int)(slash - name), name);
    const char *net = slash + 1, *net_end = strchr(net, '/');
    if (!net_end || (size_t)(net_end - net) >= sizeof o->net) return false;
    snprintf(o->net, sizeof o->net, "%.*s", (int)(net_end - net), net);
    const char *side = NULL;
    static const char *const sides[] = {"cnnk", "onednn", "pytorch"};
    size_t side_len = 0;
    for (const char *p = net_end; (p = strchr(p, '/')) != NULL; ++p)
        for (size_t k = 0; k < sizeof sides / sizeof sides[0]; ++k) {
            size_t n = strlen(sides[k]);
            if (strncmp(p + 1, sides[k], n) == 0 && p[n + 1] == '/') side = p, side_len = n;
        }
    if (!side) return false;
    snprintf(o->side, sizeof o->side, "%.*s", (int)side_len, side + 1);
    const char *kernel = side + side_len + 2;
    if (!*kernel) return false;
    snprintf(o->kernel, sizeof o->kernel, "%.*s", (int)(sizeof o->kernel - 1), kernel);
    if (strcmp(o->family, "net") == 0) return side == net_end;
    if (strcmp(o->family, "layer") != 0 || side == net_end || strcmp(o->side, "pytorch") == 0)
        return false;
    size_t ln = (size_t)(side - net_end - 1);
    if (ln >= sizeof o->layer) return false;
    snprintf(o->layer, sizeof o->layer, "%.*s", (int)ln, net_end + 1);
    return true;
}

/* What a point or bar is called: "avx512/winograd_f6x6", "oneDNN avx512/direct",
 * "PyTorch eager". */
static void display_name(const bname *n, char *buf, size_t len) {
    const char *who = strcmp(n->side, "onednn") == 0    ? "oneDNN "
                      : strcmp(n->side, "pytorch") == 0 ? "PyTorch "
                                                        : "";
    snprintf(buf, len, "%s%s", who, n->kernel);
}

static const char *isa_colour(const bname *n) {
    if (strcmp(n->side, "onednn") == 0) return "#c0392b";
    if (strcmp(n->side, "pytorch") == 0) return "#8e44ad";
    if (strncmp(n->kernel, "avx512/", 7) == 0) return "#1f5fa8";
    if (strncmp(n->kernel, "avx2/", 5) == 0) return "#2e8b57";
    if (strncmp(n->kernel, "neon/", 5) == 0) return "#d68910";
    return "#7f8c8d";
}

static double bench_ms(const rpt_bench *b) { return rpt_median(b->ms, b->n); }

/* ---- the page ------------------------------------------------------------------ */

static const char *const page_css =
    "body{font:14px/1.4 sans-serif;margin:24px;color:#222;background:#fff}"
    "h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ccc}"
    "h3{font-size:15px;margin:18px 0 4px}p.note{color:#555;max-width:60em}"
    "table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;"
    "text-align:left}td.num{text-align:right}svg.chart{display:block;margin:6px 0 14px}"
    "svg text{font:11px sans-serif;fill:#222}.roofs{display:flex;flex-wrap:wrap;gap:8px}"
    ".roofs figure{margin:0}figcaption{font-size:12px;color:#444;max-width:660px}";

static void header(sbuf *s, const rpt_data *d, const rpt_run *r) {
    sb_printf(s, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                 "<title>cnnk report</title><style>%s</style></head><body>\n<h1>cnnk report</h1>\n",
              page_css);
    sb_printf(s, "<table class=\"context\"><tr><th>CPU</th><td>");
    sb_esc(s, r->cpu_model[0] ? r->cpu_model : "unknown");
    sb_printf(s, "</td></tr><tr><th>revision</th><td>");
    sb_esc(s, r->revision[0] ? r->revision : "unknown");
    sb_printf(s, "</td></tr><tr><th>date</th><td>");
    sb_esc(s, r->date[0] ? r->date : "unknown");
    sb_printf(s, "</td></tr><tr><th>threads</th><td>%d</td></tr>", r->threads);
    for (int i = 0; i < r->npeaks; ++i) {
        sb_printf(s, "<tr><th>FMA peak ");
        sb_esc(s, r->peak_isa[i]);
        sb_printf(s, "</th><td>%.1f GFLOP/s per core (measured)</td></tr>", r->peak_gflops[i]);
    }
    if (r->bandwidth_gbs > 0.0)
        sb_printf(s, "<tr><th>memory bandwidth</th><td>%.1f GB/s (measured)</td></tr>",
                  r->bandwidth_gbs);
    sb_printf(s, "<tr><th>source</th><td>%s</td></tr></table>\n",
              d->have_json ? (d->nhist ? "JSON results; history from the database"
                                       : "JSON results")
                           : "the database's latest run");
}

/* ---- per network: bars ---------------------------------------------------------- */

/* The networks, in the order their first net/ benchmark appears. */
static int list_nets(const rpt_run *r, char (*nets)[64], int max) {
    int n = 0;
    for (int i = 0; i < r->nb; ++i) {
        bname bn;
        if (!parse_name(r->b[i].name, &bn) || strcmp(bn.family, "net") != 0) continue;
        bool seen = false;
        for (int k = 0; k < n && !seen; ++k) seen = strcmp(nets[k], bn.net) == 0;
        if (!seen && n < max) snprintf(nets[n++], 64, "%s", bn.net);
    }
    return n;
}

enum { BAR_H = 18, BAR_LABEL_W = 300, BAR_W = 420, MAX_NETS = 64 };

static void net_bars(sbuf *s, const rpt_run *r, const char *net) {
    int nbars = 0;
    double most = 0.0;
    for (int i = 0; i < r->nb; ++i) {
        bname bn;
        if (!parse_name(r->b[i].name, &bn) || strcmp(bn.family, "net") != 0 ||
            strcmp(bn.net, net) != 0 || r->b[i].n == 0)
            continue;
        nbars++;
        most = fmax(most, bench_ms(&r->b[i]));
    }
    sb_printf(s, "<h3>");
    sb_esc(s, net);
    sb_printf(s, "</h3>\n");
    const int h = nbars * (BAR_H + 4) + 24, w = BAR_LABEL_W + BAR_W + 90;
    sb_printf(s, "<svg class=\"chart bars\" data-net=\"");
    sb_esc(s, net);
    sb_printf(s, "\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                 "viewBox=\"0 0 %d %d\" role=\"img\">\n", w, h, w, h);
    int row = 0;
    for (int i = 0; i < r->nb; ++i) {
        bname bn;
        const rpt_bench *b = &r->b[i];
        if (!parse_name(b->name, &bn) || strcmp(bn.family, "net") != 0 ||
            strcmp(bn.net, net) != 0 || b->n == 0)
            continue;
        double ms = bench_ms(b);
        double len = most > 0.0 ? BAR_W * ms / most : 0.0;
        int y = row++ * (BAR_H + 4) + 4;
        char label[160];
        display_name(&bn, label, sizeof label);
        sb_printf(s, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", BAR_LABEL_W - 6, y + 13);
        sb_esc(s, label);
        sb_printf(s, "</text><rect class=\"bar\" data-name=\"");
        sb_esc(s, b->name);
        sb_printf(s, "\" x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"><title>",
                  BAR_LABEL_W, y, len < 1.0 ? 1.0 : len, BAR_H, isa_colour(&bn));
        sb_esc(s, b->name);
        sb_printf(s, ": median %.3f ms of %d</title></rect>", ms, b->n);
        sb_printf(s, "<text x=\"%.1f\" y=\"%d\">%.2f ms</text>\n", BAR_LABEL_W + len + 4,
                  y + 13, ms);
    }
    sb_printf(s, "<text x=\"%d\" y=\"%d\">median time per forward pass, ms (shorter is faster)"
                 "</text>\n</svg>\n", BAR_LABEL_W, h - 6);
    for (int i = 0; i < r->nb; ++i) {
        bname bn;
        if (!parse_name(r->b[i].name, &bn) || strcmp(bn.family, "net") != 0 ||
            strcmp(bn.net, net) != 0 || r->b[i].errors == 0 || r->b[i].n > 0)
            continue;
        sb_printf(s, "<p class=\"note\">");
        sb_esc(s, r->b[i].name);
        sb_printf(s, ": skipped (");
        sb_esc(s, r->b[i].error);
        sb_printf(s, ")</p>\n");
    }
}

/* ---- per layer: rooflines ------------------------------------------------------- */

typedef struct layer_ref {
    char net[64], layer[128];
} layer_ref;

static int list_layers(const rpt_run *r, layer_ref *out, int max) {
    int n = 0;
    for (int i = 0; i < r->nb; ++i) {
        bname bn;
        if (!parse_name(r->b[i].name, &bn) || strcmp(bn.family, "layer") != 0) continue;
        bool seen = false;
        for (int k = 0; k < n && !seen; ++k)
            seen = strcmp(out[k].net, bn.net) == 0 && strcmp(out[k].layer, bn.layer) == 0;
        if (seen || n == max) continue;
        snprintf(out[n].net, sizeof out[n].net, "%s", bn.net);
        snprintf(out[n].layer, sizeof out[n].layer, "%s", bn.layer);
        n++;
    }
    return n;
}

static bool in_layer(const bname *bn, const layer_ref *l) {
    return strcmp(bn->family, "layer") == 0 && strcmp(bn->net, l->net) == 0 &&
           strcmp(bn->layer, l->layer) == 0;
}

/* A kernel's point: executed FLOP/s where the benchmark has them (the
 * roofs bound what is executed), else effective ones (oneDNN's Winograd),
 * drawn hollow. */
typedef struct point {
    double ai, gflops;
    bool executed;
    const rpt_bench *b;
    bname bn;
} point;

static bool point_of(const rpt_bench *b, point *p) {
    if (b->n == 0 || isnan(b->bytes) || b->bytes <= 0.0) return false;
    double exec = rpt_median(b->exec_flops, b->n), eff = rpt_median(b->flops, b->n);
    p->executed = !isnan(exec) && exec > 0.0;
    double rate = p->executed ? exec : eff;
    if (isnan(rate) || rate <= 0.0) return false;
    double per_pass = rate * bench_ms(b) * 1e-3;
    p->ai = per_pass / b->bytes;
    p->gflops = rate * 1e-9;
    p->b = b;
    return p->ai > 0.0;
}

/* Fastest first. */
static int by_gflops(const void *pa, const void *pb) {
    const point *a = pa, *b = pb;
    return (a->gflops < b->gflops) - (a->gflops > b->gflops);
}

enum { RL_KEY = 250, RL_W = 420, RL_H = 300, RL_L = 52, RL_R = 12, RL_T = 12, RL_B = 40, MAX_POINTS = 64 };

typedef struct logaxes {
    double x0, x1, y0, y1; /* log10 ranges */
} logaxes;

static double px(const logaxes *a, double x) {
    return RL_L + (log10(x) - a->x0) / (a->x1 - a->x0) * (RL_W - RL_L - RL_R);
}

static double py(const logaxes *a, double y) {
    return RL_H - RL_B - (log10(y) - a->y0) / (a->y1 - a->y0) * (RL_H - RL_T - RL_B);
}

static void log_ticks(sbuf *s, const logaxes *a) {
    for (int e = (int)floor(a->x0); e <= (int)ceil(a->x1); ++e) {
        double v = pow(10.0, e);
        if (e < a->x0 || e > a->x1) continue;
        double x = px(a, v);
        sb_printf(s, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#eee\"/>"
                     "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n",
                  x, RL_T, x, RL_H - RL_B, x, RL_H - RL_B + 14, v);
    }
    for (int e = (int)floor(a->y0); e <= (int)ceil(a->y1); ++e) {
        double v = pow(10.0, e);
        if (e < a->y0 || e > a->y1) continue;
        double y = py(a, v);
        sb_printf(s, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#eee\"/>"
                     "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
                  RL_L, y, RL_W - RL_R, y, RL_L - 4, y + 4, v);
    }
}

static void roofline(sbuf *s, const rpt_run *r, const layer_ref *l) {
    point pts[MAX_POINTS];
    int n = 0;
    for (int i = 0; i < r->nb && n < MAX_POINTS; ++i) {
        if (!parse_name(r->b[i].name, &pts[n].bn) || !in_layer(&pts[n].bn, l)) continue;
        if (point_of(&r->b[i], &pts[n])) n++;
    }
    if (n == 0) return; /* pooling, LRN: no FLOP counter, nothing to place */
    qsort(pts, (size_t)n, sizeof pts[0], by_gflops);
    const int svg_w = RL_W + RL_KEY, svg_h = RL_H > RL_T + 14 * n + 18 ? RL_H : RL_T + 14 * n + 18;
    const double threads = r->threads > 0 ? r->threads : 1;
    double top = 0.0;
    for (int i = 0; i < r->npeaks; ++i) top = fmax(top, r->peak_gflops[i] * threads);
    /* cnnk_mem_bandwidth_gbs is one core's stream: the roof of one thread. */
    const double bw = r->bandwidth_gbs > 0.0 ? r->bandwidth_gbs : 0.0;
    double xmin = pts[0].ai, xmax = pts[0].ai, ymin = pts[0].gflops, ymax = pts[0].gflops;
    for (int i = 1; i < n; ++i) {
        xmin = fmin(xmin, pts[i].ai), xmax = fmax(xmax, pts[i].ai);
        ymin = fmin(ymin, pts[i].gflops), ymax = fmax(ymax, pts[i].gflops);
    }
    if (top > 0.0 && bw > 0.0) xmin = fmin(xmin, top / bw), xmax = fmax(xmax, top / bw);
    ymax = fmax(ymax, top);
    logaxes a = {floor(log10(xmin) - 0.3), ceil(log10(xmax) + 0.3), floor(log10(ymin) - 0.3),
                 ceil(log10(ymax) + 0.2)};
    /* The shape: a cnnk row's label (oneDNN's names its implementation). */
    const rpt_bench *shaped = NULL;
    for (int i = 0; i < n && !shaped; ++i)
        if (strcmp(pts[i].bn.side, "cnnk") == 0) shaped = pts[i].b;
    sb_printf(s, "<figure><svg class=\"chart roofline\" data-net=\"");
    sb_esc(s, l->net);
    sb_printf(s, "\" data-layer=\"");
    sb_esc(s, l->layer);
    sb_printf(s, "\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                 "viewBox=\"0 0 %d %d\" role=\"img\">\n", svg_w, svg_h, svg_w, svg_h);
    sb_printf(s, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
                 "stroke=\"#999\"/>\n", RL_L, RL_T, RL_W - RL_L - RL_R, RL_H - RL_T - RL_B);
    log_ticks(s, &a);
    /* Roofs: each ISA's FMA peak x threads, and the bandwidth diagonal up
     * to the highest peak. */
    const double xlo = pow(10.0, a.x0), xhi = pow(10.0, a.x1);
    for (int i = 0; i < r->npeaks; ++i) {
        double p = r->peak_gflops[i] * threads;
        if (log10(p) < a.y0 || log10(p) > a.y1) continue;
        double knee = bw > 0.0 ? fmax(p / bw, xlo) : xlo;
        sb_printf(s, "<line class=\"roof peak\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                     "stroke=\"#555\" stroke-width=\"1.5\"/><text x=\"%.1f\" y=\"%.1f\" "
                     "text-anchor=\"end\">",
                  px(&a, knee), py(&a, p), px(&a, xhi), py(&a, p), px(&a, xhi) - 2, py(&a, p) - 3);
        sb_esc(s, r->peak_isa[i]);
        sb_printf(s, " peak %.0f</text>\n", p);
    }
    if (bw > 0.0) {
        double x_end = top > 0.0 ? fmin(top / bw, xhi) : xhi, x_start = xlo;
        if (bw * x_start < pow(10.0, a.y0)) x_start = pow(10.0, a.y0) / bw;
        if (x_start < x_end)
            sb_printf(s, "<line class=\"roof bandwidth\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                         "y2=\"%.1f\" stroke=\"#555\" stroke-width=\"1.5\" "
                         "stroke-dasharray=\"5 3\"/><text x=\"%.1f\" y=\"%.1f\">%.0f GB/s</text>\n",
                      px(&a, x_start), py(&a, bw * x_start), px(&a, x_end), py(&a, bw * x_end),
                      px(&a, x_start) + 4, py(&a, bw * x_start) - 4, bw);
    }
    sb_printf(s, "<text x=\"%d\" y=\"%d\" font-weight=\"bold\">kernel, GFLOP/s</text>\n", RL_W + 8,
              RL_T + 10);
    /* Kernels of one layer share their arithmetic intensity but for
     * Winograd's, so the points carry numbers and the names stand in a
     * key beside the plot, fastest first. */
    for (int i = 0; i < n; ++i) {
        char label[160];
        display_name(&pts[i].bn, label, sizeof label);
        const double x = px(&a, pts[i].ai), y = py(&a, pts[i].gflops);
        const char *c = isa_colour(&pts[i].bn);
        sb_printf(s, "<circle class=\"point\" data-name=\"");
        sb_esc(s, pts[i].b->name);
        sb_printf(s, "\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\" stroke=\"%s\"><title>", x, y,
                  pts[i].executed ? c : "#fff", c);
        sb_esc(s, label);
        sb_printf(s, ": %.2f FLOP/byte, %.1f GFLOP/s %s, %.3f ms</title></circle>", pts[i].ai,
                  pts[i].gflops, pts[i].executed ? "executed" : "effective", bench_ms(pts[i].b));
        sb_printf(s, "<text x=\"%.1f\" y=\"%.1f\">%d</text>", x + 5 + (i % 2) * 12, y + 4, i + 1);
        sb_printf(s, "<text class=\"key\" x=\"%d\" y=\"%d\"><tspan fill=\"%s\">%d</tspan> ", RL_W + 8,
                  RL_T + 24 + 14 * i, c, i + 1);
        sb_esc(s, label);
        sb_printf(s, " %.0f</text>\n", pts[i].gflops);
    }
    sb_printf(s, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">arithmetic intensity, FLOP "
                 "per byte</text><text transform=\"translate(12 %d) rotate(-90)\" "
                 "text-anchor=\"middle\">GFLOP/s</text>\n</svg><figcaption>",
              (RL_L + RL_W - RL_R) / 2, RL_H - 6, (RL_T + RL_H - RL_B) / 2);
    sb_esc(s, l->net);
    sb_printf(s, " / ");
    sb_esc(s, l->layer);
    if (shaped && shaped->label[0]) {
        sb_printf(s, ": ");
        sb_esc(s, shaped->label);
    }
    sb_printf(s, "</figcaption></figure>\n");
}

/* ---- per layer: the winners ----------------------------------------------------- */

static void winners(sbuf *s, const rpt_run *r, const layer_ref *layers, int nlayers) {
    sb_printf(s, "<table class=\"winners\"><tr><th>network</th><th>layer</th><th>shape</th>"
                 "<th>fastest cnnk kernel</th><th>ms</th><th>runner-up</th><th>ms</th>"
                 "<th>fastest oneDNN</th><th>ms</th><th>cnnk / oneDNN</th></tr>\n");
    for (int l = 0; l < nlayers; ++l) {
        const rpt_bench *best = NULL, *second = NULL, *dnn = NULL;
        bname bb = {0}, bs = {0}, bd = {0};
        for (int i = 0; i < r->nb; ++i) {
            bname bn;
            const rpt_bench *b = &r->b[i];
            if (!parse_name(b->name, &bn) || !in_layer(&bn, &layers[l]) || b->n == 0) continue;
            double ms = bench_ms(b);
            if (strcmp(bn.side, "onednn") == 0) {
                if (!dnn || ms < bench_ms(dnn)) dnn = b, bd = bn;
            } else if (!best || ms < bench_ms(best)) {
                second = best, bs = bb;
                best = b, bb = bn;
            } else if (!second || ms < bench_ms(second)) {
                second = b, bs = bn;
            }
        }
        if (!best) continue;
        sb_printf(s, "<tr class=\"winner\"><td>");
        sb_esc(s, layers[l].net);
        sb_printf(s, "</td><td>");
        sb_esc(s, layers[l].layer);
        sb_printf(s, "</td><td>");
        sb_esc(s, best->label);
        sb_printf(s, "</td><td>");
        sb_esc(s, bb.kernel);
        sb_printf(s, "</td><td class=\"num\">%.4f</td><td>", bench_ms(best));
        if (second) sb_esc(s, bs.kernel);
        sb_printf(s, "</td><td class=\"num\">");
        if (second) sb_printf(s, "%.4f", bench_ms(second));
        sb_printf(s, "</td><td>");
        if (dnn) sb_esc(s, bd.kernel);
        sb_printf(s, "</td><td class=\"num\">");
        if (dnn) sb_printf(s, "%.4f", bench_ms(dnn));
        sb_printf(s, "</td><td class=\"num\">");
        if (dnn && bench_ms(dnn) > 0.0) sb_printf(s, "%.2f", bench_ms(best) / bench_ms(dnn));
        sb_printf(s, "</td></tr>\n");
    }
    sb_printf(s, "</table>\n");
}

/* ---- from a database: the networks over revisions -------------------------------- */

enum { HI_W = 720, HI_H = 300, HI_L = 60, HI_R = 220, HI_T = 12, HI_B = 56, MAX_SERIES = 32 };

static const char *const series_colours[] = {"#1f5fa8", "#c0392b", "#2e8b57", "#d68910",
                                              "#8e44ad", "#16a085", "#7f8c8d", "#2c3e50"};

static void history(sbuf *s, const rpt_data *d, const char *net) {
    /* The series: every net/<net>/ benchmark any run has, in first-seen order. */
    const char *series[MAX_SERIES];
    int ns = 0;
    double most = 0.0;
    for (int k = 0; k < d->nhist; ++k)
        for (int i = 0; i < d->hist[k].nb; ++i) {
            const rpt_bench *b = &d->hist[k].b[i];
            bname bn;
            if (!parse_name(b->name, &bn) || strcmp(bn.family, "net") != 0 ||
                strcmp(bn.net, net) != 0 || b->n == 0)
                continue;
            most = fmax(most, bench_ms(b));
            bool seen = false;
            for (int j = 0; j < ns && !seen; ++j) seen = strcmp(series[j], b->name) == 0;
            if (!seen && ns < MAX_SERIES) series[ns++] = b->name;
        }
    if (ns == 0) return;
    sb_printf(s, "<h3>");
    sb_esc(s, net);
    sb_printf(s, "</h3>\n<svg class=\"chart history\" data-net=\"");
    sb_esc(s, net);
    sb_printf(s, "\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                 "viewBox=\"0 0 %d %d\" role=\"img\">\n", HI_W, HI_H, HI_W, HI_H);
    const double plot_w = HI_W - HI_L - HI_R, plot_h = HI_H - HI_T - HI_B;
    const double ymax = most * 1.1;
    sb_printf(s, "<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" "
                 "stroke=\"#999\"/>\n", HI_L, HI_T, plot_w, plot_h);
    for (int t = 0; t <= 4; ++t) {
        double v = ymax * t / 4, y = HI_T + plot_h - plot_h * t / 4;
        sb_printf(s, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#eee\"/>"
                     "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.3g</text>\n",
                  HI_L, y, HI_L + plot_w, y, HI_L - 4, y + 4, v);
    }
    const int nx = d->nhist;
#define HI_X(k) (HI_L + (nx > 1 ? plot_w * (k) / (nx - 1) : plot_w / 2))
    for (int k = 0; k < nx; ++k) {
        char rev[16];
        snprintf(rev, sizeof rev, "%.10s", d->hist[k].revision);
        sb_printf(s, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">", HI_X(k),
                  HI_T + plot_h + 14);
        sb_esc(s, rev);
        sb_printf(s, "</text><text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">", HI_X(k),
                  HI_T + plot_h + 27);
        char date[16];
        snprintf(date, sizeof date, "%.10s", d->hist[k].date);
        sb_esc(s, date);
        sb_printf(s, "</text>\n");
    }
    for (int j = 0; j < ns; ++j) {
        const char *c = series_colours[j % (sizeof series_colours / sizeof series_colours[0])];
        sb_printf(s, "<polyline class=\"series\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" "
                     "points=\"", c);
        for (int k = 0; k < nx; ++k) {
            const rpt_bench *b = rpt_find(&d->hist[k], series[j]);
            if (b && b->n > 0)
                sb_printf(s, "%.1f,%.1f ", HI_X(k), HI_T + plot_h - plot_h * bench_ms(b) / ymax);
        }
        sb_printf(s, "\"/>\n");
        for (int k = 0; k < nx; ++k) {
            const rpt_bench *b = rpt_find(&d->hist[k], series[j]);
            if (!b || b->n == 0) continue;
            sb_printf(s, "<circle class=\"point\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\">"
                         "<title>", HI_X(k), HI_T + plot_h - plot_h * bench_ms(b) / ymax, c);
            sb_esc(s, series[j]);
            sb_printf(s, " at ");
            sb_esc(s, d->hist[k].revision);
            sb_printf(s, ": median %.3f ms of %d</title></circle>\n", bench_ms(b), b->n);
        }
        bname bn;
        char label[160] = "";
        if (parse_name(series[j], &bn)) display_name(&bn, label, sizeof label);
        sb_printf(s, "<rect x=\"%.0f\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>"
                     "<text x=\"%.0f\" y=\"%d\">", HI_L + plot_w + 10, HI_T + 4 + j * 15, c,
                  HI_L + plot_w + 24, HI_T + 13 + j * 15);
        sb_esc(s, label);
        sb_printf(s, "</text>\n");
    }
#undef HI_X
    sb_printf(s, "<text x=\"%.0f\" y=\"%d\" text-anchor=\"middle\">run (revision, date), oldest "
                 "first; median ms per forward pass</text>\n</svg>\n",
              HI_L + plot_w / 2, HI_H - 6);
}

/* ---- assembly ------------------------------------------------------------------- */

enum { MAX_LAYERS = 1024 };

cnnk_status rpt_write_html(const rpt_data *d, char **html, size_t *len, cnnk_error *err) {
    const rpt_run *r = rpt_current(d);
    if (!r) return cnnk_fail(err, CNNK_EINVAL, "report: no results to draw");
    char nets[MAX_NETS][64];
    int nnets = list_nets(r, nets, MAX_NETS);
    layer_ref *layers = malloc(MAX_LAYERS * sizeof *layers);
    if (!layers) return cnnk_fail(err, CNNK_ENOMEM, "report: out of memory");
    int nlayers = list_layers(r, layers, MAX_LAYERS);
    if (nnets == 0 && nlayers == 0 && d->nhist == 0) {
        free(layers);
        return cnnk_fail(err, CNNK_EINVAL,
                         "report: no net/ or layer/ benchmarks to draw (docs/BENCHMARKS.md names "
                         "them)");
    }
    sbuf s = {0};
    header(&s, d, r);
    if (nnets > 0) {
        sb_printf(&s, "<h2>Networks</h2>\n<p class=\"note\">Each plan and ISA of cnnk beside "
                      "oneDNN (red): the median of the repetitions of one forward pass.</p>\n");
        for (int i = 0; i < nnets; ++i) net_bars(&s, r, nets[i]);
    }
    if (nlayers > 0) {
        sb_printf(&s, "<h2>Layers: rooflines</h2>\n<p class=\"note\">Each kernel a point: "
                      "arithmetic intensity = the FLOPs it executes per pass / the bytes of "
                      "inputs + weights + outputs, each counted once (4 bytes a float); GFLOP/s "
                      "executed. Roofs: each ISA's measured FMA peak x %d thread%s, and the "
                      "measured single-core memory bandwidth (dashed). A hollow point has only effective "
                      "FLOPs (2 x MACs: oneDNN's Winograd, whose executed work is its own). "
                      "Layers without multiply-adds (pooling, LRN) have no point.</p>\n"
                      "<div class=\"roofs\">\n",
                  r->threads, r->threads == 1 ? "" : "s");
        for (int i = 0; i < nlayers; ++i) roofline(&s, r, &layers[i]);
        sb_printf(&s, "</div>\n");
        int unplaced = 0;
        for (int i = 0; i < r->nb; ++i) {
            bname bn;
            const rpt_bench *b = &r->b[i];
            unplaced += parse_name(b->name, &bn) && strcmp(bn.family, "layer") == 0 && b->n > 0 &&
                        isnan(b->bytes) && !isnan(rpt_median(b->flops, b->n));
        }
        if (unplaced > 0)
            sb_printf(&s, "<p class=\"note\">%d layer benchmark%s with FLOPs but no <code>bytes</code> "
                          "counter (results from a cnnk-bench before issue 13) %s no point.</p>\n",
                      unplaced, unplaced == 1 ? "" : "s", unplaced == 1 ? "has" : "have");
        sb_printf(&s, "<h2>Layers: the fastest kernel</h2>\n");
        winners(&s, r, layers, nlayers);
    }
    if (d->nhist > 0) {
        char hnets[MAX_NETS][64];
        int nh = 0;
        for (int k = 0; k < d->nhist; ++k) {
            char more[MAX_NETS][64];
            int m = list_nets(&d->hist[k], more, MAX_NETS);
            for (int i = 0; i < m; ++i) {
                bool seen = false;
                for (int j = 0; j < nh && !seen; ++j) seen = strcmp(hnets[j], more[i]) == 0;
                if (!seen && nh < MAX_NETS) memcpy(hnets[nh++], more[i], sizeof more[i]);
            }
        }
        sb_printf(&s, "<h2>History</h2>\n<p class=\"note\">%d run%s of the database, oldest "
                      "first.</p>\n", d->nhist, d->nhist == 1 ? "" : "s");
        for (int i = 0; i < nh; ++i) history(&s, d, hnets[i]);
    }
    sb_printf(&s, "</body></html>\n");
    free(layers);
    if (s.oom) {
        free(s.p);
        return cnnk_fail(err, CNNK_ENOMEM, "report: out of memory");
    }
    *html = s.p;
    *len = s.len;
    return CNNK_OK;
}
