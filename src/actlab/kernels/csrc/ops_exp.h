/* (group exp: kernels go here) */
static const actlab_op VARIANT(ops_exp)[] = {
    {NULL, NULL, NULL, NULL},
};
