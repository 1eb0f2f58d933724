/* `cnnk report`'s page: one self-contained HTML document (inline CSS and
 * SVG, no script, no font or image fetched) from rpt_data. The charts
 * carry classes the Chromium test counts (docs/REPORT.md):
 *   svg.chart.bars[data-net]       rect.bar per plan/ISA and oneDNN row
 *   svg.chart.roofline[data-layer] circle.point per kernel
 *   table.winners                  tr.winner per layer
 *   svg.chart.history[data-net]    circle.point per (run, benchmark) */
#ifndef CNNK_TOOLS_REPORT_HTML_H
#define CNNK_TOOLS_REPORT_HTML_H

#include <stddef.h>

#include "cnnk/status.h"
#include "tools/report_data.h"

/* The page in *html (malloc'd, *len bytes). CNNK_EINVAL with a message
 * when there is nothing to draw (no net/ or layer/ benchmark that ran). */
cnnk_status rpt_write_html(const rpt_data *d, char **html, size_t *len, cnnk_error *err);

#endif
