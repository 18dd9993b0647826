/*
 * The strategy registry: maps the `strategy:` name in the YAML to its ops table,
 * and `strategy.pruner` to a pruner's.
 * A plain NULL-terminated table; the order is the order `hpsweep --help` and the
 * contract tests list them in.
 */
#include <string.h>

#include "strategies.h"

static const hps_strategy_ops *const registry[] = {
    &hps_strategy_random,
    &hps_strategy_grid,
    &hps_strategy_gp,
    &hps_strategy_tpe,
    &hps_strategy_hyperband,
    &hps_strategy_asha,
    &hps_strategy_bohb,
    NULL,
};

static const hps_pruner_ops *const pruners[] = {
    &hps_pruner_median,
    NULL,
};

const hps_strategy_ops *hps_strategy_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; registry[i]; i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

const hps_strategy_ops *const *hps_strategy_list(void)
{
    return registry;
}

const hps_pruner_ops *hps_pruner_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; pruners[i]; i++)
        if (strcmp(pruners[i]->name, name) == 0)
            return pruners[i];
    return NULL;
}

const hps_pruner_ops *const *hps_pruner_list(void)
{
    return pruners;
}
