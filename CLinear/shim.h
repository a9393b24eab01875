// CLinear: the only C surface Substrate sees. OpenBLAS's CBLAS (plus its openblas_* controls) and LAPACKE.
#ifndef CLINEAR_SHIM_H
#define CLINEAR_SHIM_H
#include <cblas.h>
#include <lapacke.h>
#endif
