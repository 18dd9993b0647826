/*
 * The environment provenance records: an allow-list of exact names, never a
 * pattern, so a secret (a token, a password, a cloud key) cannot be recorded by
 * accident. The list holds the batch system's allocation facts (Slurm, PBS), the
 * devices and threads a trial sees, and the switches that change numerical
 * results (cuBLAS workspace, NCCL algorithms, Python's hash seed). Each variable
 * that is set becomes the run fact env.<NAME>; the README lists them.
 */
#include <stdio.h>
#include <stdlib.h>

#include "hpsweep/error.h"
#include "provenance.h"

const char *const hps_prov_env_allowed[] = {
    /* Slurm: the job and its allocation */
    "SLURM_JOB_ID", "SLURM_JOB_NAME", "SLURM_JOB_PARTITION", "SLURM_JOB_ACCOUNT",
    "SLURM_JOB_QOS", "SLURM_CLUSTER_NAME", "SLURM_JOB_NODELIST", "SLURM_JOB_NUM_NODES",
    "SLURM_NNODES", "SLURM_NTASKS", "SLURM_NTASKS_PER_NODE", "SLURM_TASKS_PER_NODE",
    "SLURM_CPUS_PER_TASK", "SLURM_CPUS_ON_NODE", "SLURM_JOB_CPUS_PER_NODE", "SLURM_MEM_PER_NODE",
    "SLURM_MEM_PER_CPU", "SLURM_GPUS", "SLURM_GPUS_PER_NODE", "SLURM_GPUS_PER_TASK",
    "SLURM_GPUS_ON_NODE", "SLURM_JOB_GPUS", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID",
    "SLURM_RESTART_COUNT", "SLURM_TIMELIMIT",
    /* PBS Pro / OpenPBS / Torque */
    "PBS_JOBID", "PBS_JOBNAME", "PBS_QUEUE", "PBS_NUM_NODES", "PBS_NP", "PBS_ARRAY_INDEX",
    /* devices, threads */
    "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES",
    "OMP_NUM_THREADS", "OMP_PROC_BIND", "OMP_PLACES", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
    /* switches that change numerical results */
    "CUBLAS_WORKSPACE_CONFIG", "NVIDIA_TF32_OVERRIDE", "NCCL_ALGO", "NCCL_PROTO",
    "NCCL_P2P_DISABLE", "NCCL_IB_DISABLE", "NCCL_SOCKET_IFNAME", "NCCL_NET_GDR_LEVEL",
    "PYTHONHASHSEED", "TF_DETERMINISTIC_OPS", "TF_CUDNN_DETERMINISTIC",
    NULL};

int hps_prov_add_env(hps_prov *p)
{
    char key[64];
    for (int i = 0; hps_prov_env_allowed[i]; i++) {
        const char *v = getenv(hps_prov_env_allowed[i]);
        if (!v)
            continue;
        snprintf(key, sizeof key, "env.%s", hps_prov_env_allowed[i]);
        int rc = hps_prov_add(p, HPS_PROV_RUN, 0, key, v);
        if (rc != HPS_OK)
            return rc;
    }
    return HPS_OK;
}
