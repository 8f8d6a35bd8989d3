/* (group misc: kernels go here) */
static const actlab_op VARIANT(ops_misc)[] = {
    {NULL, NULL, NULL, NULL},
};
