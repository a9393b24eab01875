// CLinear: the only C surface Substrate sees. OpenBLAS's CBLAS (plus its openblas_* controls), LAPACKE,
// and vectorised math kernels over glibc's libmvec with run-time CPU dispatch.
#ifndef CLINEAR_SHIM_H
#define CLINEAR_SHIM_H
#include <cblas.h>
#include <lapacke.h>
#include "vector_math.h"
#include <malloc.h>
#endif
