/*
 * Fuzz target: the @hpsweep report-line parser (workers/command.c), with the
 * invariants its callers rely on.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "workers/command.h"

int hps_fuzz_report_line(const uint8_t *data, size_t size)
{
    hps_report_line r;
    int64_t step = 0;
    if (hps_report_parse((const char *)data, size, &step, &r)) {
        if (r.n <= 0 || r.n > HPS_REPORT_MAX_METRICS)
            abort();
        for (int i = 0; i < r.n; i++)
            if (strlen(r.names[i]) == 0 || strlen(r.names[i]) > HPS_METRIC_NAME_MAX)
                abort();
    }
    return 0;
}

#ifdef HPS_FUZZ_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return hps_fuzz_report_line(data, size);
}
#endif
