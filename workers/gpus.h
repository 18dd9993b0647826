/*
 * GPU binding: how many NVIDIA GPUs this node has, and the devices a rank that
 * runs trial code gets: the ranks of a node that run trial code are numbered (the
 * group leaders for a command on the leader, gpus_per_trial each; every rank of
 * every group for a plugin or launch: group, gpus_per_rank each), and the k-th
 * gets the devices k*per .. k*per+per-1 of the node's list, wrapping around when
 * the node has fewer (the caller decides whether that sharing is allowed).
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

/* The CUDA ordinal (position in the node's list) of the first of those devices,
 * for in-process code (cudaSetDevice), or -1 when per or count is 0. */
int hps_gpu_ordinal(int local_index, int per, int count);

#endif
