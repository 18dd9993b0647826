/*
 * Getters for a strategy's validated options (hps_strategy_cfg). The config has
 * already checked names, types and ranges against the strategy's option list, so
 * these only convert text; an absent key yields the caller's default.
 */
#include <stdlib.h>
#include <string.h>

#include "hpsweep/strategy.h"

static const char *lookup(const hps_strategy_cfg *cfg, const char *key)
{
    if (!cfg)
        return NULL;
    for (int i = 0; i < cfg->n; i++)
        if (strcmp(cfg->keys[i], key) == 0)
            return cfg->values[i];
    return NULL;
}

long hps_strategy_cfg_int(const hps_strategy_cfg *cfg, const char *key, long dflt)
{
    const char *v = lookup(cfg, key);
    return v ? strtol(v, NULL, 10) : dflt;
}

double hps_strategy_cfg_double(const hps_strategy_cfg *cfg, const char *key, double dflt)
{
    const char *v = lookup(cfg, key);
    return v ? strtod(v, NULL) : dflt;
}

const char *hps_strategy_cfg_str(const hps_strategy_cfg *cfg, const char *key, const char *dflt)
{
    const char *v = lookup(cfg, key);
    return v ? v : dflt;
}

int hps_strategy_cfg_bool(const hps_strategy_cfg *cfg, const char *key, int dflt)
{
    const char *v = lookup(cfg, key);
    if (!v)
        return dflt;
    return strcmp(v, "true") == 0 || strcmp(v, "True") == 0 || strcmp(v, "yes") == 0 ||
           strcmp(v, "1") == 0;
}
