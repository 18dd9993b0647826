/*
 * libhps_keep_loaded.so, preloaded into the integration tests of sanitizer
 * builds: dlclose() does nothing. Open MPI unloads its components (mca_*.so) in
 * MPI_Finalize, so LeakSanitizer, which reports at exit, could no longer name the
 * module of the allocations those components made ("<unknown module>") and no
 * suppression could match them. Kept loaded, they are named, and lsan.supp can
 * suppress Open MPI's own reports by module while ours are still reported.
 */
int dlclose(void *handle);

int dlclose(void *handle)
{
    (void)handle;
    return 0;
}
