/*
 * A shared library that is not an hpsweep plugin: it exports no
 * `hpsweep_objective` table. hpsweep must refuse it at start on every rank
 * (exit 2), never call into it. Built for tests/integration/test_plugin.sh.
 */
#include <hpsweep/objective.h>

int not_the_objective_table(void);

int not_the_objective_table(void)
{
    return HPS_OBJECTIVE_VERSION;
}
