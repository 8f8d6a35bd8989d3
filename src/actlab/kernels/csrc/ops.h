/* Every kernel group, compiled once per instruction-set VARIANT (see ckernels.c). A group header
 * defines its kernels and a table VARIANT(ops_<group>) ending in a {NULL} entry; add new groups here. */
#include "ops_pwl.h"
#include "ops_smooth.h"
#include "ops_exp.h"
#include "ops_gelu.h"
#include "ops_misc.h"
#include "ops_extra.h"

static const actlab_op *const VARIANT(groups)[] = {
    VARIANT(ops_pwl),  VARIANT(ops_smooth), VARIANT(ops_exp),   VARIANT(ops_gelu),
    VARIANT(ops_misc), VARIANT(ops_extra),  NULL,
};
