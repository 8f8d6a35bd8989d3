/* Chunks for the kernels that run in stages (lisht in ops_exp.h, tanh_exp in ops_smooth.h): each stage
 * is a short loop over one chunk that reads and writes stack buffers of ACTLAB_STAGE_CHUNK floats. The
 * whole formula for one element is one long dependency chain (exponentials, a division); in one loop
 * the out-of-order core keeps too few elements in flight, in stages it keeps several chains going.
 *
 * The chunk is smaller than ACTLAB_CHUNK: the first stage reads x and the last one reads g and writes
 * the result in bursts of one chunk, and on tensors larger than L2 bursts of 1024 elements cost these
 * kernels about 0.2 ns per element (lisht' 0.82 against 0.60 at 256 on 2^20 elements; 128 and 512
 * measured the same as 256). */
#ifndef ACTLAB_STAGES_H
#define ACTLAB_STAGES_H

#define ACTLAB_STAGE_CHUNK 256

/* `for each chunk [s, e)` of ACTLAB_STAGE_CHUNK elements */
#define ACTLAB_FOR_STAGE_CHUNKS(n, s, e)                                                              \
    for (long s = 0, e = ((n) < ACTLAB_STAGE_CHUNK ? (n) : ACTLAB_STAGE_CHUNK); s < (n);             \
         s = e, e = (e + ACTLAB_STAGE_CHUNK < (n) ? e + ACTLAB_STAGE_CHUNK : (n)))

#endif
