// Private to the kernels (not in include/): CPU feature probes whose answer is kept.
#ifndef SKRR_CPU_PROBE_H
#define SKRR_CPU_PROBE_H

// Runs `detect` the first time and returns its answer from then on. cpuid and xgetbv trap to the
// hypervisor in a virtual machine, and the kernels are asked on every product. A race only runs
// `detect` twice: every thread computes the same value, and the detectors have no side effect
// that a second call changes.
static inline int cpu_probe_once(int *known, int (*detect)(void)) {
    int value = __atomic_load_n(known, __ATOMIC_RELAXED);
    if (value < 0) {
        value = detect();
        __atomic_store_n(known, value, __ATOMIC_RELAXED);
    }
    return value;
}

#endif
