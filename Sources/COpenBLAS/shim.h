#include <stddef.h>
#include <cblas.h>
/* Declared by OpenBLAS; not in every cblas.h. */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

/* LAPACK, which OpenBLAS ships (Fortran calling convention: every argument by pointer, column-major
   matrices, the lengths of the character arguments appended). Debian's libopenblas-dev installs no
   LAPACK header, hence the declaration here. */

/* Eigenvalues (ascending) and, with jobz = 'V', eigenvectors of a real symmetric matrix, by divide
   and conquer. lwork = liwork = -1 asks for the workspace sizes in work[0] and iwork[0]. */
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
             double *work, const int *lwork, int *iwork, const int *liwork, int *info,
             size_t jobz_len, size_t uplo_len);
