/*
 * GPU binding for command trials: how many NVIDIA GPUs this node has, and the
 * CUDA_VISIBLE_DEVICES list a worker gets (its index among the trial-group leaders
 * on the node times gpus_per_trial, wrapping around when the node has fewer).
 */
#ifndef HPS_WORKERS_GPUS_H
#define HPS_WORKERS_GPUS_H

/* NVIDIA GPUs visible on this node: the entries of /proc/driver/nvidia/gpus, or,
 * when CUDA_VISIBLE_DEVICES is set for the job, the ids it lists. 0 when none. */
int hps_gpu_count(void);

/* "a,b,..." for the local_index-th leader on the node with per_trial GPUs each out
 * of count, or NULL when per_trial or count is 0. *wrapped is set when the node
 * has fewer GPUs than its leaders need (GPUs are then shared). Caller frees. */
char *hps_gpu_list(int local_index, int per_trial, int count, int *wrapped);

#endif
