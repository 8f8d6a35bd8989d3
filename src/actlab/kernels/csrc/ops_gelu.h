/* (group gelu: kernels go here) */
static const actlab_op VARIANT(ops_gelu)[] = {
    {NULL, NULL, NULL, NULL},
};
